/* The client role of berth-helper: the front end of `berth-runtime` (bin/berth-runtime
 * execs `berth-helper --runtime-client ARGS...`), so a command costs no Node start.
 *
 * It hands the command to the resident runtime server of its --root (src/runtime-cli/server.ts)
 * over <root>/berth-runtime.sock, as build tools' servers work (nailgun, gradle, bazel):
 *   request   one sendmsg: u32 magic "BRT1", u32 payload length, fds 0,1,2 (SCM_RIGHTS);
 *             then the payload: u32 argc, u32 envc, cwd\0, argv[i]\0..., environ[i]\0...
 *   messages  12 bytes each way: u32 type, u32 a, u32 b (little-endian).
 *             server -> client: ACCEPTED(pid), EXIT(code), DIE(signal), RAW (terminal raw mode)
 *             client -> server: SIGNAL(signo) for every signal it receives, RESIZE(cols, rows)
 * The container's stdio is the caller's own fds, so its output never passes through us.
 * Both ends check the peer's uid (SO_PEERCRED). No server answering: one is started (node,
 * detached, logging to <root>/berth-runtime-server.log), serialised by flock on
 * <root>/berth-runtime-server.lock so two clients never start two. If none can be had, or
 * BERTH_RUNTIME_SERVER=0, the plain Node command runs instead: never worse than before. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_FLAG "--runtime-client"
#define SOCKET_NAME "berth-runtime.sock"
#define LOCK_NAME "berth-runtime-server.lock"
#define LOG_NAME "berth-runtime-server.log"
#define DEFAULT_ROOT "/run/berth/runtime"
#define REQUEST_MAGIC 0x31545242u
#define MAX_PAYLOAD (1u << 20)
#define START_TIMEOUT_MS 15000
#define ATTEMPTS 3

enum { SRV_ACCEPTED = 1, SRV_EXIT = 2, SRV_DIE = 3, SRV_RAW = 4 };
enum { CLI_SIGNAL = 1, CLI_RESIZE = 2 };

extern char **environ;

static char node_entry[4096];
static struct termios saved_termios;
static int termios_saved, raw_mode;

int client_wanted(int argc, char **argv) { return argc > 1 && strcmp(argv[1], CLIENT_FLAG) == 0; }

/* dist/runtime-cli/launch.cjs (the bundle) or dist/src/runtime-cli/main.js of the checkout
 * this binary was built in: <repo>/native/build/berth-helper. */
static int find_node_entry(void) {
  char exe[4000];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = '\0';
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
  }
  snprintf(node_entry, sizeof node_entry, "%s/dist/runtime-cli/launch.cjs", exe);
  if (access(node_entry, R_OK) == 0) return 0;
  snprintf(node_entry, sizeof node_entry, "%s/dist/src/runtime-cli/main.js", exe);
  return 0;
}

static _Noreturn void exec_plain(int nargs, char **args) {
  char **argv = calloc((size_t)nargs + 3, sizeof *argv);
  if (!argv) { perror("berth-runtime"); exit(1); }
  argv[0] = "node";
  argv[1] = node_entry;
  for (int i = 0; i < nargs; i++) argv[i + 2] = args[i];
  execvp("node", argv);
  perror("berth-runtime: node");
  exit(127);
}

/* --root as commander reads it: global options come before the verb */
static const char *root_option(int nargs, char **args) {
  for (int i = 0; i < nargs; i++) {
    const char *a = args[i];
    if (a[0] != '-' || strcmp(a, "--") == 0) break;
    if (strcmp(a, "--root") == 0) return i + 1 < nargs ? args[i + 1] : NULL;
    if (strncmp(a, "--root=", 7) == 0) return a + 7;
    if (strcmp(a, "--log") == 0 || strcmp(a, "--log-format") == 0 || strcmp(a, "--rootless") == 0) i++;
  }
  const char *env = getenv("BERTH_RUNTIME_ROOT");
  return env ? env : DEFAULT_ROOT;
}

static int mkdir_p(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int rc = mkdir(path, 0711);
    *p = '/';
    if (rc < 0 && errno != EEXIST) return -1;
  }
  return mkdir(path, 0711) < 0 && errno != EEXIST ? -1 : 0;
}

static int send_all(int sock, const void *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t n = send(sock, (const char *)buf + off, len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

static int send_message(int sock, uint32_t type, uint32_t a, uint32_t b) {
  uint32_t msg[3] = { type, a, b };
  return send_all(sock, msg, sizeof msg);
}

/* A connection to the server of this root, whose process runs as our uid; -1 if none. */
static int connect_server(int dirfd) {
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, SOCKET_NAME);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  struct ucred peer;
  socklen_t len = sizeof peer;
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0
      || getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.uid != geteuid()) {
    close(sock);
    return -1;
  }
  return sock;
}

static void sleep_ms(long ms) {
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* Start `node <entry> --serve-runtime <root>` in its own session, not our child (a double
 * fork: nobody has to reap it); true once it wrote its ready byte on fd 3. */
static int spawn_server(int dirfd, const char *root) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return 0;
  int log = openat(dirfd, LOG_NAME, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = log < 0 || devnull < 0 ? -1 : fork();
  if (pid == 0) {
    if (setsid() < 0 || fork() != 0) _exit(0);
    int from[4] = { devnull, log, log, ready[1] }, high[4];
    for (int i = 0; i < 4; i++) high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10);
    for (int i = 0; i < 4; i++) if (high[i] < 0 || dup2(high[i], i) < 0) _exit(126);
    close_range(4, ~0U, 0); /* nothing of our caller's lives on in the server */
    if (chdir("/") < 0) _exit(126);
    char *argv[] = { "node", node_entry, "--serve-runtime", (char *)root, NULL };
    execvp("node", argv);
    _exit(127);
  }
  close(ready[1]);
  if (log >= 0) close(log);
  if (devnull >= 0) close(devnull);
  if (pid > 0) while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  char byte = 0;
  struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
  int ok = pid > 0 && poll(&pfd, 1, START_TIMEOUT_MS) == 1 && read(ready[0], &byte, 1) == 1 && byte == 'R';
  close(ready[0]);
  return ok;
}

/* Connect, starting a server first if none answers; -1 when there is none to be had. */
static int obtain_server(int dirfd, const char *root) {
  int sock = connect_server(dirfd);
  if (sock >= 0) return sock;
  int lock = openat(dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return -1;
  /* another client may be starting one right now: wait for it, within bounds */
  long waited = 0;
  while (flock(lock, LOCK_EX | LOCK_NB) < 0) {
    if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= START_TIMEOUT_MS) { close(lock); return -1; }
    sleep_ms(5);
    waited += 5;
  }
  sock = connect_server(dirfd);
  if (sock < 0 && spawn_server(dirfd, root)) sock = connect_server(dirfd);
  close(lock); /* releases the flock */
  return sock;
}

static int append(char **buf, size_t *len, size_t *cap, const void *data, size_t n) {
  if (*len + n > MAX_PAYLOAD) return -1;
  while (*len + n > *cap) {
    *cap = *cap ? *cap * 2 : 4096;
    char *grown = realloc(*buf, *cap);
    if (!grown) return -1;
    *buf = grown;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  return 0;
}

/* The payload: u32 argc, u32 envc, cwd, args, environment, each string NUL-terminated. */
static char *build_payload(int nargs, char **args, size_t *len) {
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  uint32_t envc = 0;
  for (char **e = environ; *e; e++) envc++;
  uint32_t counts[2] = { (uint32_t)nargs, envc };
  char *buf = NULL;
  size_t cap = 0;
  *len = 0;
  int rc = append(&buf, len, &cap, counts, sizeof counts) | append(&buf, len, &cap, cwd, strlen(cwd) + 1);
  for (int i = 0; i < nargs; i++) rc |= append(&buf, len, &cap, args[i], strlen(args[i]) + 1);
  for (char **e = environ; *e; e++) rc |= append(&buf, len, &cap, *e, strlen(*e) + 1);
  if (rc != 0) { free(buf); return NULL; }
  return buf;
}

static int send_request(int sock, const char *payload, size_t len) {
  uint32_t header[2] = { REQUEST_MAGIC, (uint32_t)len };
  int fds[3] = { 0, 1, 2 };
  char cbuf[CMSG_SPACE(sizeof fds)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = header, .iov_len = sizeof header };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof header) return -1;
  return send_all(sock, payload, len);
}

/* One whole 12-byte message; 0 at end of stream, -1 on error. */
static int read_message(int sock, uint32_t msg[3]) {
  size_t got = 0;
  while (got < 12) {
    ssize_t n = read(sock, (char *)msg + got, 12 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return got == 0 && n == 0 ? 0 : -1;
    got += (size_t)n;
  }
  return 1;
}

static void restore_terminal(void) {
  if (raw_mode && termios_saved) tcsetattr(0, TCSANOW, &saved_termios);
  raw_mode = 0;
}

static void make_raw(void) {
  if (!termios_saved || raw_mode) return;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSANOW, &raw) == 0) raw_mode = 1;
}

static void send_window_size(int sock) {
  struct winsize ws;
  if (ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0) send_message(sock, CLI_RESIZE, ws.ws_col, ws.ws_row);
}

/* The signals the container gets instead of us (runc's `run` forwards them too). */
static void forwarded_signals(sigset_t *set) {
  static const int list[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCONT, SIGTSTP,
    SIGTTIN, SIGTTOU, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGWINCH };
  sigemptyset(set);
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) sigaddset(set, list[i]);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) sigaddset(set, sig);
}

static _Noreturn void die_by(int sig) {
  restore_terminal();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  signal(sig, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  exit(128 + sig);
}

/* After ACCEPTED: relay signals and resizes until the server reports how the command ended. */
static _Noreturn void converse(int sock, uint32_t server_pid) {
  termios_saved = isatty(0) && tcgetattr(0, &saved_termios) == 0;
  sigset_t set;
  forwarded_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  send_window_size(sock);
  for (;;) {
    struct pollfd fds[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGWINCH) send_window_size(sock);
        else send_message(sock, CLI_SIGNAL, si.ssi_signo, 0);
      }
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    uint32_t msg[3];
    int rc = read_message(sock, msg);
    if (rc <= 0) {
      restore_terminal();
      fprintf(stderr, "berth-runtime: the runtime server (pid %u) went away before the command finished\n", server_pid);
      exit(1);
    }
    if (msg[0] == SRV_EXIT) { restore_terminal(); exit((int)(msg[1] & 0xff)); }
    if (msg[0] == SRV_DIE) die_by((int)msg[1]);
    if (msg[0] == SRV_RAW) make_raw();
  }
}

/* fds 0-2 must be open to be passed: a closed one becomes /dev/null, as for any program */
static void ensure_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0 && null != fd) { dup2(null, fd); close(null); }
  }
}

int client_main(int argc, char **argv) {
  int nargs = argc - 2;
  char **args = argv + 2;
  unsetenv("NODE_EXTRA_CA_CERTS"); /* see bin/berth-runtime */
  if (find_node_entry() < 0) { fprintf(stderr, "berth-runtime: cannot locate the berth checkout from /proc/self/exe\n"); return 1; }
  const char *server = getenv("BERTH_RUNTIME_SERVER");
  if (server && strcmp(server, "0") == 0) exec_plain(nargs, args);
  ensure_stdio();
  char root[4096], cwd[4096];
  const char *option = root_option(nargs, args);
  if (!option || !getcwd(cwd, sizeof cwd)) exec_plain(nargs, args);
  int written = option[0] == '/' ? snprintf(root, sizeof root, "%s", option) : snprintf(root, sizeof root, "%s/%s", cwd, option);
  if (written <= 0 || written >= (int)sizeof root || mkdir_p(root) < 0) exec_plain(nargs, args);
  int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  size_t len = 0;
  char *payload = dirfd < 0 ? NULL : build_payload(nargs, args, &len);
  if (!payload) exec_plain(nargs, args);
  /* a server closing for idleness drops a request it has not accepted: ask the next one */
  for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
    int sock = obtain_server(dirfd, root);
    if (sock < 0) break;
    uint32_t msg[3];
    if (send_request(sock, payload, len) == 0 && read_message(sock, msg) == 1 && msg[0] == SRV_ACCEPTED) {
      free(payload);
      close(dirfd);
      converse(sock, msg[1]);
    }
    close(sock);
  }
  exec_plain(nargs, args);
}
