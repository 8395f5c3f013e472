/* Test loader for seccomp programs built by src/runtime/seccomp/compile.ts.
 *   loader PROGRAM exec CMD [ARGS...]   install the filter, then execv CMD
 *   loader PROGRAM call NR [ARGS...]    install the filter, then syscall(NR, ARGS...) and
 *                                       print "<return value> <errno>"
 * Compiled by the test at test time; not part of berth. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int install(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return -1; }
  static struct sock_filter insns[4096];
  size_t n = fread(insns, sizeof insns[0], 4096, f);
  fclose(f);
  struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return -1; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { perror("seccomp"); return -1; }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: loader PROGRAM exec|call ...\n"); return 2; }
  if (install(argv[1]) != 0) return 3;
  if (strcmp(argv[2], "exec") == 0) {
    execv(argv[3], &argv[3]);
    perror("execv");
    return 4;
  }
  long a[6] = {0};
  for (int i = 0; i < 6 && 4 + i < argc; i++) a[i] = strtol(argv[4 + i], NULL, 0);
  errno = 0;
  long r = syscall(strtol(argv[3], NULL, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
  printf("%ld %d\n", r, r < 0 ? errno : 0);
  return 0;
}
