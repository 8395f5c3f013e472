/* berth-probe: a tiny static program run inside test containers. It answers one
 * question per invocation so tests need no image: `probe pid`, `probe hostname`,
 * `probe exit N`, `probe cat FILE`. The runtime tests extend it as they need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cat(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); return 1; }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: probe pid|hostname|exit N|cat FILE\n"); return 2; }
  const char *q = argv[1];
  if (!strcmp(q, "pid")) { printf("%d\n", (int)getpid()); return 0; }
  if (!strcmp(q, "hostname")) {
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1)) { perror("gethostname"); return 1; }
    printf("%s\n", h);
    return 0;
  }
  if (!strcmp(q, "exit") && argc > 2) return atoi(argv[2]);
  if (!strcmp(q, "cat") && argc > 2) return cat(argv[2]);
  fprintf(stderr, "probe: unknown question %s\n", q);
  return 2;
}
