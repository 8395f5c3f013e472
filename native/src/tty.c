/* Terminals: the container process opens a pty in its own devpts and hands the master to
 * the shim, which sends it to a console socket (runc's protocol) or relays it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "helper.h"

int send_fd(int sock, int fd, const char *name) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int recv_fd(int sock) {
  char name[256], cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) { errno = EPROTO; return -1; }
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

int op_terminal(struct child_ctx *ctx, const struct op *op) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return fail("open_ptmx", "/dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) return fail("unlockpt", "/dev/ptmx");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) return fail("open_pty_slave", "/dev/ptmx");
  struct winsize ws = { .ws_col = (unsigned short)op->ints[0], .ws_row = (unsigned short)op->ints[1] };
  if ((ws.ws_col || ws.ws_row) && ioctl(slave, TIOCSWINSZ, &ws) < 0) return fail("set_window_size", NULL);
  if (send_fd(ctx->ttysock, master, "/dev/ptmx") < 0) return fail("send_pty_master", NULL);
  close(master);
  close(ctx->ttysock);
  ctx->ttysock = -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) return fail("dup_pty_slave", NULL);
  if (slave > 2) close(slave);
  if (ioctl(0, TIOCSCTTY, 0) < 0) return fail("set_controlling_tty", NULL);
  return 0;
}

int shim_receive_master(int sock) { return recv_fd(sock); }

int shim_send_console(const char *socket_path, int master) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (sock < 0 || strlen(socket_path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, socket_path);
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) { close(sock); return -1; }
  int rc = send_fd(sock, master, "/dev/ptmx");
  close(sock);
  return rc;
}

static int copy_once(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR ? 1 : -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0; /* reader went away: keep draining the other side */
    off += w;
  }
  return 1;
}

/* Resize requests from TypeScript arrive on the sync fd: 'R' u16 cols u16 rows. */
static int handle_control(int master) {
  unsigned char msg[5];
  ssize_t n = read(SYNC_FD, msg, sizeof msg);
  if (n <= 0) return -1;
  if (n == 5 && msg[0] == 'R') {
    struct winsize ws = { .ws_col = (unsigned short)(msg[1] | msg[2] << 8), .ws_row = (unsigned short)(msg[3] | msg[4] << 8) };
    ioctl(master, TIOCSWINSZ, &ws);
  }
  return 0;
}

/* Relay stdin -> master and master -> stdout until the child has exited and the pty is
 * drained; returns the child's wait status through *status. */
void shim_relay(int master, pid_t child, int *status) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  int in_open = 1, ctl_open = 1, exited = 0;
  while (!exited || master >= 0) {
    if (!exited && waitpid(child, status, WNOHANG) == child) exited = 1;
    struct pollfd fds[4] = {
      { .fd = master, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN },
      { .fd = ctl_open ? SYNC_FD : -1, .events = POLLIN }, { .fd = exited ? -1 : sfd, .events = POLLIN },
    };
    if (exited) { fds[1].fd = -1; fds[2].fd = -1; }
    int n = poll(fds, 4, exited ? 100 : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && exited) break; /* drained */
    if (fds[0].revents && copy_once(master, 1) < 0) { close(master); master = -1; }
    if (fds[1].revents && copy_once(0, master) <= 0) in_open = 0;
    if (fds[2].revents && handle_control(master) < 0) ctl_open = 0;
    if (fds[3].revents) { struct signalfd_siginfo si; if (read(sfd, &si, sizeof si) < 0) continue; }
  }
  if (!exited) waitpid(child, status, 0);
  if (master >= 0) close(master);
}
