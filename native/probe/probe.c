/* berth-probe: a tiny static program run inside test containers. It answers one
 * question per invocation so tests need no image:
 *   pid | hostname | exit N | cat FILE | id | tty | mkdir PATH | write PATH
 *   alloc MB | fork N | signal SIG | sleep SECONDS | ns NAME | clock
 * (clock: CLOCK_MONOTONIC in ns, printed just before exiting: benches time the exit from it)
 * Failures of the probed operation print "errno N NAME" and exit 0, so tests can
 * compare the errno; a misuse of the probe exits 2. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

static int report_errno(int err) {
  printf("errno %d %s\n", err, strerror(err));
  return 0;
}

static int id(void) {
  gid_t groups[64];
  int n = getgroups(64, groups);
  printf("uid=%d gid=%d groups=", (int)getuid(), (int)getgid());
  for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", (int)groups[i]);
  printf("\n");
  return 0;
}

static int tty(void) {
  struct winsize ws;
  if (!isatty(0)) { printf("notty\n"); return 0; }
  if (ioctl(0, TIOCGWINSZ, &ws) < 0) return report_errno(errno);
  printf("tty %dx%d\n", ws.ws_col, ws.ws_row);
  return 0;
}

/* allocate and touch MB megabytes, reporting progress so an OOM kill is visible */
static int alloc(long mb) {
  for (long i = 0; i < mb; i++) {
    char *p = malloc(1 << 20);
    if (!p) return report_errno(ENOMEM);
    memset(p, 1, 1 << 20);
  }
  printf("allocated %ld\n", mb);
  return 0;
}

/* start N children that sleep, count how many forks succeeded */
static int forks(int n) {
  int ok = 0, err = 0;
  pid_t pids[4096];
  for (int i = 0; i < n && i < 4096; i++) {
    pid_t pid = fork();
    if (pid == 0) { pause(); _exit(0); }
    if (pid < 0) { err = errno; break; }
    pids[ok++] = pid;
  }
  for (int i = 0; i < ok; i++) { kill(pids[i], SIGKILL); waitpid(pids[i], NULL, 0); }
  printf("forked %d", ok);
  if (err) printf(" errno %d %s", err, strerror(err));
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: probe QUESTION [ARG]\n"); return 2; }
  const char *q = argv[1], *arg = argc > 2 ? argv[2] : NULL;
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!strcmp(q, "pid")) { printf("%d\n", (int)getpid()); return 0; }
  if (!strcmp(q, "hostname")) {
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1)) { perror("gethostname"); return 1; }
    printf("%s\n", h);
    return 0;
  }
  if (!strcmp(q, "id")) return id();
  if (!strcmp(q, "tty")) return tty();
  if (!strcmp(q, "clock")) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    return 0;
  }
  if (!arg) { fprintf(stderr, "probe: %s needs an argument\n", q); return 2; }
  if (!strcmp(q, "exit")) return atoi(arg);
  if (!strcmp(q, "cat")) return cat(arg);
  if (!strcmp(q, "mkdir")) return mkdir(arg, 0755) < 0 ? report_errno(errno) : (printf("ok\n"), 0);
  if (!strcmp(q, "write")) {
    int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return report_errno(errno);
    close(fd);
    printf("ok\n");
    return 0;
  }
  if (!strcmp(q, "alloc")) return alloc(atol(arg));
  if (!strcmp(q, "fork")) return forks(atoi(arg));
  if (!strcmp(q, "signal")) { raise(atoi(arg)); return 0; }
  if (!strcmp(q, "sleep")) { sleep((unsigned)atoi(arg)); return 0; }
  if (!strcmp(q, "ns")) {
    char path[128], link[256] = {0};
    snprintf(path, sizeof path, "/proc/self/ns/%s", arg);
    if (readlink(path, link, sizeof link - 1) < 0) return report_errno(errno);
    printf("%s\n", link);
    return 0;
  }
  fprintf(stderr, "probe: unknown question %s\n", q);
  return 2;
}
