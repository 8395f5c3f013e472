/* Builds a filter with libseccomp from a line description on stdin and writes its BPF to
 * stdout, so tests can compare berth's compiler with the reference one:
 *   default ACTION            (first line; ACTION is the SECCOMP_RET_* value, decimal)
 *   arch TOKEN                (AUDIT_ARCH_* value, decimal; any number of lines)
 *   rule ACTION NAME N [INDEX OP VALUE VALUETWO]*N   (OP: 1 NE .. 7 MASKED_EQ as libseccomp)
 * Bad-architecture action is KILL_PROCESS, as berth's. Compiled by the test at test time. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  unsigned long long def;
  if (scanf(" default %llu", &def) != 1) { fprintf(stderr, "missing default line\n"); return 2; }
  scmp_filter_ctx ctx = seccomp_init((uint32_t)def);
  if (!ctx) { fprintf(stderr, "seccomp_init failed\n"); return 2; }
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) { fprintf(stderr, "badarch attr\n"); return 2; }
  unsigned long long arch;
  while (scanf(" arch %llu", &arch) == 1) {
    int rc = seccomp_arch_add(ctx, (uint32_t)arch);
    if (rc != 0 && rc != -EEXIST) { fprintf(stderr, "arch %llu: %s\n", arch, strerror(-rc)); return 2; }
  }
  char name[128];
  unsigned long long action;
  unsigned n;
  while (scanf(" rule %llu %127s %u", &action, name, &n) == 3) {
    struct scmp_arg_cmp cmps[6];
    if (n > 6) { fprintf(stderr, "too many conditions\n"); return 2; }
    for (unsigned i = 0; i < n; i++) {
      unsigned idx, op;
      unsigned long long a, b;
      if (scanf(" %u %u %llu %llu", &idx, &op, &a, &b) != 4) { fprintf(stderr, "bad condition\n"); return 2; }
      cmps[i] = (struct scmp_arg_cmp){ .arg = idx, .op = (enum scmp_compare)op, .datum_a = a, .datum_b = b };
    }
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) { fprintf(stderr, "unknown %s\n", name); continue; }
    int rc = seccomp_rule_add_array(ctx, (uint32_t)action, nr, n, cmps);
    if (rc != 0) { fprintf(stderr, "rule %s: %s\n", name, strerror(-rc)); return 3; }
  }
  if (seccomp_export_bpf(ctx, STDOUT_FILENO) != 0) { fprintf(stderr, "export failed\n"); return 4; }
  seccomp_release(ctx);
  return 0;
}
