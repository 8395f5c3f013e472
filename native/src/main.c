/* berth-helper: runs a plan (src/sys/plan-format.ts) read from fd 3 and talks to
 * TypeScript on fd 4. Three roles in one binary:
 *   helper  (before CLONE)  re-execs from a sealed memfd (CVE-2019-5736), joins a pid ns;
 *   shim    (after CLONE)   reports the pid, holds/sends the pty master, waits for the
 *                           container process and records its exit status;
 *   child   (after CLONE)   runs the remaining ops and finally execve()s the user program.
 * Any failing step is reported as MSG_ERROR {op index, errno, step, path}. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

struct failure failure;

int fail(const char *step, const char *path) {
  failure.step = step;
  failure.path = path;
  failure.err = errno;
  return -1;
}

/* Run from a sealed copy of ourselves so a container process can never write to the
 * binary through /proc/<pid>/exe. */
static void ensure_sealed(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return;
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE)) { close(self); return; }
  struct stat st;
  int mfd = memfd_create("berth-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0 || fstat(self, &st) < 0) { perror("berth-helper: memfd"); exit(125); }
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n <= 0) { perror("berth-helper: copy self"); exit(125); }
  }
  close(self);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    perror("berth-helper: seal"); exit(125);
  }
  extern char **environ;
  syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  perror("berth-helper: re-exec");
  exit(125);
}

/* posix_spawn from a threaded parent (Node) leaves glibc's internal signals (32, 33)
 * ignored in the child, and an ignored signal survives execve: every ignored signal goes
 * back to its default, so neither the shim nor the container inherits one. The raw syscall,
 * because glibc refuses to touch its internal signals; an all-zero action is SIG_DFL. */
static void reset_ignored_signals(void) {
  for (int sig = 1; sig <= 64; sig++) {
    uint64_t old[8] = { 0 }, dfl[8] = { 0 };
    if (syscall(SYS_rt_sigaction, sig, NULL, old, 8) == 0 && old[0] == (uint64_t)(uintptr_t)SIG_IGN)
      syscall(SYS_rt_sigaction, sig, dfl, NULL, 8);
  }
}

static _Noreturn void report_failure(size_t index) {
  sync_send(MSG_ERROR, (uint32_t)index, (uint32_t)failure.err, failure.step, failure.path);
  _exit(1);
}

/* Made before CLONE by the helper itself (a container root in a user namespace may not
 * write to the state dir); the child inherits the O_PATH fd. */
static int open_fifo(struct child_ctx *ctx, const char *path) {
  if (mkfifo(path, 0622) < 0 && errno != EEXIST) return fail("mkfifo", path);
  if (chmod(path, 0622) < 0) return fail("chmod_fifo", path);
  ctx->fifofd = open(path, O_PATH | O_CLOEXEC);
  return ctx->fifofd < 0 ? fail("open_exec_fifo", path) : 0;
}

/* SHIM_WAIT: the shim writes 'G' to the clone's socket pair once the process sits in its cgroup */
static int shim_wait_go(int sock) {
  char c = 0;
  ssize_t n;
  while ((n = read(sock, &c, 1)) < 0 && errno == EINTR) {}
  if (n == 1 && c == 'G') return 0;
  errno = n == 0 ? EPIPE : n == 1 ? EPROTO : errno;
  return fail("shim_wait", NULL);
}

static int run_child_op(struct child_ctx *ctx, const struct op *op) {
  switch (op->code) {
  case OP_SETNS: return op_setns(op);
  case OP_UNSHARE: return op_unshare(op);
  case OP_SYNC_WAIT: return sync_wait_go();
  case OP_SHIM_WAIT: return shim_wait_go(ctx->ttysock);
  case OP_HOOK_WAIT:
    sync_send(MSG_HOOKS, 0, 0, NULL, NULL);
    return sync_wait_go();
  case OP_ROOTFS:
    ctx->rootfd = open(op->strs[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
    return ctx->rootfd < 0 ? fail("open_rootfs", op->strs[0]) : 0;
  case OP_MOUNT: return op_mount(ctx, op);
  case OP_IDMAP_ATTACH: return op_idmap_attach(ctx, op);
  case OP_MKNOD: return op_mknod(ctx, op);
  case OP_SYMLINK: return op_symlink(ctx, op);
  case OP_PIVOT_ROOT:
    if (ctx->rootfd >= 0) { close(ctx->rootfd); ctx->rootfd = -1; }
    return op_pivot_root(op);
  case OP_MASK_PATH: return op_mask_path(op);
  case OP_READONLY_PATH: return op_readonly_path(op);
  case OP_SETHOSTNAME: return op_sethostname(op, 0);
  case OP_SETDOMAINNAME: return op_sethostname(op, 1);
  case OP_WRITE_FILE: return op_write_file(op->strs[0], op->strs[1], op->lens[1]);
  case OP_OOM_SCORE_ADJ: {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int)(int64_t)op->ints[0]);
    return op_write_file("/proc/self/oom_score_adj", buf, (size_t)n);
  }
  case OP_RLIMIT: return op_rlimit(op);
  case OP_CREDS: return op_creds(op);
  case OP_CAP_BOUNDING: return op_cap_bounding(op);
  case OP_CAPS: return op_caps(op);
  case OP_UMASK: umask((mode_t)op->ints[0]); return 0;
  case OP_NO_NEW_PRIVS: return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? fail("no_new_privs", NULL) : 0;
  case OP_SECCOMP: return op_seccomp(op);
  case OP_CHDIR: return chdir(op->strs[0]) < 0 ? fail("chdir", op->strs[0]) : 0;
  case OP_SETSID: return setsid() < 0 ? fail("setsid", NULL) : 0;
  case OP_TERMINAL: return op_terminal(ctx, op);
  case OP_FIFO_OPEN: return open_fifo(ctx, op->strs[0]);
  case OP_FIFO_WAIT: {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ctx->fifofd);
    sync_send(MSG_READY, 0, 0, NULL, NULL);
    close(SYNC_FD);
    /* after setuid the process is not dumpable and /proc/self/fd belongs to root */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    int fd = open(path, O_WRONLY | O_CLOEXEC); /* blocks until `start` reads */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (fd < 0 || write(fd, "0", 1) != 1) return fail("exec_fifo", path);
    close(fd);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    close(ctx->fifofd);
    return 0;
  }
  case OP_READY:
    sync_send(MSG_READY, 0, 0, NULL, NULL);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    return 0;
  case OP_EXECVE: return op_execve(op);
  default: return 0; /* shim-only ops */
  }
}

static pid_t shim_pid;

/* A warm helper (spawned before its container is asked for, --spare-netns) makes the
 * container's network namespace while it waits for its plan: the ~1-2 ms that creating a
 * network namespace costs are then off the create's path. unshare() moves the helper
 * itself into it, so it goes back to its own at once and keeps both as fds. */
static int spare_netns = -1, own_netns = -1;

static void make_spare_netns(void) {
  int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) return;
  if (unshare(CLONE_NEWNET) < 0) { close(own); return; }
  int spare = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (setns(own, CLONE_NEWNET) < 0) {
    /* stuck in the new namespace: a plan for the host's network would run in the wrong one */
    perror("berth-helper: return to own network namespace");
    exit(125);
  }
  if (spare < 0) { close(own); return; }
  spare_netns = spare;
  own_netns = own;
}

/* The CLONE's new network namespace is the spare one when there is one and the clone makes
 * no user namespace (a namespace belongs to the user namespace it was made in: under a new
 * one it must be made by the clone). Returns the flags left for clone(); the caller then
 * calls release_spare_netns(). */
static unsigned long take_spare_netns(unsigned long flags, int *taken) {
  *taken = 0;
  if (spare_netns < 0 || !(flags & CLONE_NEWNET) || (flags & CLONE_NEWUSER)) return flags;
  if (setns(spare_netns, CLONE_NEWNET) < 0) return flags;
  *taken = 1;
  return flags & ~(unsigned long)CLONE_NEWNET;
}

/* In the shim after the clone: back to its own namespace (the container holds the spare one). */
static int release_spare_netns(int taken) {
  int rc = 0;
  if (taken && setns(own_netns, CLONE_NEWNET) < 0) rc = fail("setns_own_netns", NULL);
  if (spare_netns >= 0) close(spare_netns);
  if (own_netns >= 0) close(own_netns);
  spare_netns = own_netns = -1;
  return rc;
}

static _Noreturn void run_child(const struct plan *plan, size_t from, int ttysock, int fifofd) {
  struct child_ctx ctx = { .rootfd = -1, .fifofd = fifofd, .ttysock = ttysock };
  /* until the user program starts, the container dies with its shim (nobody could start it) */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  pid_t parent = getppid(); /* 0 in a new pid namespace: the shim is outside it */
  if (parent != shim_pid && parent != 0) _exit(1);
  for (size_t i = from; i < plan->nops; i++) {
    if (run_child_op(&ctx, &plan->ops[i]) < 0) {
      /* after the sync fd is gone (start has begun) the only witness is stderr */
      if (fcntl(SYNC_FD, F_GETFD) < 0) {
        dprintf(2, "berth: %s %s: %s\n", failure.step, failure.path ? failure.path : "", strerror(failure.err));
        _exit(failure.err == ENOENT ? 127 : 126);
      }
      report_failure(i);
    }
  }
  errno = EINVAL;
  fail("plan_has_no_execve", NULL);
  report_failure(plan->nops);
}

static void write_exit_file(const char *path, int code, int sig) {
  char tmp[4096], buf[64];
  if (!path || snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  int n = snprintf(buf, sizeof buf, "{\"exitCode\":%d,\"signal\":%d}\n", code, sig);
  /* no fsync: the rename is atomic, and a reboot ends the container this file describes */
  ssize_t written = write(fd, buf, (size_t)n);
  close(fd);
  if (written == n) rename(tmp, path);
  else unlink(tmp);
}

struct shim_opts {
  const char *exit_file, *console_socket;
  int relay, terminal, subreaper;
  int shim_go; /* the container process waits at SHIM_WAIT for the shim's 'G' */
  long cgroup_join; /* index of the CGROUP_JOIN op, or -1 */
};

/* Place the new container process in its cgroup (every hierarchy) before anyone hears of
 * it: the child is still waiting at SYNC_WAIT, so it runs nothing outside its limits. */
static int join_cgroups(const struct op *op, pid_t child) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%d", (int)child);
  for (uint32_t i = 0; i < op->nstrs; i++) {
    int fd = open(op->strs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail("cgroup_join", op->strs[i]);
    ssize_t written = write(fd, buf, (size_t)n);
    int saved = errno;
    close(fd);
    errno = saved;
    if (written != n) return fail("cgroup_join", op->strs[i]);
  }
  return 0;
}

/* External runtime mode: our child is `runc create`; once it succeeds the container's
 * init has been reparented to us, and its exit is the one to report. */
static int reap_adopted(pid_t runtime_pid, int *status) {
  int st = 0;
  while (waitpid(runtime_pid, &st, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { *status = st; return 0; }
  sync_send(MSG_READY, 0, 0, NULL, NULL);
  pid_t pid;
  while ((pid = waitpid(-1, &st, 0)) > 0 || errno == EINTR) if (pid > 0) *status = st;
  return 0;
}

static _Noreturn void run_shim(pid_t child, int ttysock, const struct shim_opts *opts) {
  signal(SIGPIPE, SIG_IGN);
  sync_send(MSG_PID, (uint32_t)child, 0, NULL, NULL);
  int status = 0, master = -1;
  if (opts->terminal) {
    master = shim_receive_master(ttysock);
    close(ttysock);
  }
  if (master >= 0 && opts->console_socket) {
    if (shim_send_console(opts->console_socket, master) < 0)
      dprintf(2, "berth-helper: console socket %s: %s\n", opts->console_socket, strerror(errno));
    close(master);
    master = -1;
  }
  if (opts->subreaper) reap_adopted(child, &status);
  else if (master >= 0 && opts->relay) shim_relay(master, child, &status);
  else {
    if (master >= 0) close(master);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  /* the caller hears first; the file (for callers that are not listening: state, a
   * detached container) follows, and a caller that listens waits for our exit before it
   * removes the directory the file is in */
  sync_send(MSG_EXIT, (uint32_t)code, (uint32_t)sig, NULL, NULL);
  write_exit_file(opts->exit_file, code, sig);
  _exit(code);
}

int main(int argc, char **argv) {
  extern int client_wanted(int argc, char **argv), client_main(int argc, char **argv); /* berth-runtime's front end: client.c */
  if (client_wanted(argc, argv)) return client_main(argc, argv);
  ensure_sealed(argv);
  reset_ignored_signals();
  if (argc > 1 && strcmp(argv[1], "--spare-netns") == 0) make_spare_netns();
  struct plan plan;
  if (plan_read(PLAN_FD, &plan) < 0) report_failure(0);
  close(PLAN_FD);
  struct shim_opts opts = { .cgroup_join = -1 };
  struct child_ctx pre = { .rootfd = -1, .fifofd = -1, .ttysock = -1 };
  for (size_t i = 0; i < plan.nops; i++) {
    const struct op *op = &plan.ops[i];
    if (op->code == OP_EXIT_FILE) opts.exit_file = op->strs[0];
    else if (op->code == OP_CONSOLE_SOCKET) opts.console_socket = op->strs[0];
    else if (op->code == OP_TERMINAL_RELAY) opts.relay = (int)op->ints[0];
    else if (op->code == OP_TERMINAL) opts.terminal = 1;
    else if (op->code == OP_SUBREAPER) opts.subreaper = 1;
    else if (op->code == OP_CGROUP_JOIN) opts.cgroup_join = (long)i;
    else if (op->code == OP_SHIM_WAIT) opts.shim_go = 1;
  }
  if (opts.subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) { fail("subreaper", NULL); report_failure(0); }
  /* the sync channel never leaks into the programs we exec; the shim keeps it */
  fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC);
  for (size_t i = 0; i < plan.nops; i++) {
    const struct op *op = &plan.ops[i];
    if (op->code == OP_SETNS && op_setns(op) < 0) report_failure(i);
    else if (op->code == OP_CLOSE_FD) close((int)op->ints[0]);
    else if (op->code == OP_FIFO_OPEN && open_fifo(&pre, op->strs[0]) < 0) report_failure(i);
    else if (op->code == OP_IDMAP_USERNS && op_idmap_userns(op) < 0) report_failure(i);
    else if (op->code == OP_IDMAP_MOUNT && op_idmap_mount(op) < 0) report_failure(i);
    else if (op->code == OP_IDMAP_TREE && op_idmap_tree(op) < 0) report_failure(i);
    else if (op->code == OP_DONE) { sync_send(MSG_READY, 0, 0, NULL, NULL); _exit(0); }
    else if (op->code == OP_CLONE) {
      int pair[2] = { -1, -1 };
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) { fail("socketpair", NULL); report_failure(i); }
      shim_pid = getpid();
      int spare_taken;
      unsigned long flags = take_spare_netns((unsigned long)op->ints[0], &spare_taken);
      pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
      if (pid < 0) { fail("clone", NULL); report_failure(i); }
      if (pid == 0) {
        close(pair[0]);
        if (spare_netns >= 0) close(spare_netns);
        if (own_netns >= 0) close(own_netns);
        run_child(&plan, i + 1, pair[1], pre.fifofd);
      }
      if (release_spare_netns(spare_taken) < 0) { kill(pid, SIGKILL); report_failure(i); }
      if (opts.cgroup_join >= 0 && join_cgroups(&plan.ops[opts.cgroup_join], pid) < 0) {
        kill(pid, SIGKILL);
        report_failure((size_t)opts.cgroup_join);
      }
      if (opts.shim_go && write(pair[0], "G", 1) != 1) {
        fail("shim_go", NULL);
        kill(pid, SIGKILL);
        report_failure(i);
      }
      if (!opts.terminal) close(pair[0]);
      close(pair[1]);
      if (pre.fifofd >= 0) close(pre.fifofd);
      idmap_close_trees(); /* the container process has its copies */
      run_shim(pid, pair[0], &opts);
    }
  }
  errno = EINVAL;
  fail("plan_has_no_clone", NULL);
  report_failure(plan.nops);
}
