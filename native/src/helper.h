/* berth-helper: the syscalls that must happen between clone() and execve().
 * It executes a plan computed in TypeScript (see src/sys/plan-format.ts); no policy here. */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H
#include <stdint.h>
#include <stddef.h>
#include "plan-ops.h"

#define PLAN_FD 3
#define SYNC_FD 4
#define MAX_INTS 80
#define MAX_STRS 4096

struct op {
  uint32_t code;
  uint32_t nints, nstrs;
  const uint64_t *ints;            /* points into the plan buffer (aligned copy) */
  const char **strs;
  const uint32_t *lens;
};

struct plan {
  struct op *ops;
  size_t nops;
};

/* plan.c */
int plan_read(int fd, struct plan *plan);

/* state shared by the steps of the container process */
struct child_ctx {
  int rootfd;       /* the rootfs, for in-root resolution; -1 until ROOTFS */
  int fifofd;       /* O_PATH fd of the exec fifo, -1 if none */
  int ttysock;      /* socket to hand the pty master to the shim */
};

/* A failing step: records where and why, so main can report {stage, step, errno, path}. */
struct failure {
  const char *step;
  const char *path;
  int err;
};
extern struct failure failure;
int fail(const char *step, const char *path); /* sets failure from errno, returns -1 */

/* sync.c */
void sync_send(uint32_t type, uint32_t a, uint32_t b, const char *s1, const char *s2);
int sync_wait_go(void);

/* ns.c */
int op_setns(const struct op *op);
int op_unshare(const struct op *op);
int op_sethostname(const struct op *op, int domain);
int op_write_file(const char *path, const char *contents, size_t len);

/* mount.c */
int op_mount(struct child_ctx *ctx, const struct op *op);
int open_or_create(int rootfd, const char *path, int kind);
int op_mknod(struct child_ctx *ctx, const struct op *op);
int op_symlink(struct child_ctx *ctx, const struct op *op);
int op_pivot_root(const struct op *op);
int op_mask_path(const struct op *op);
int op_readonly_path(const struct op *op);

/* creds.c */
int op_rlimit(const struct op *op);
int op_creds(const struct op *op);
int op_cap_bounding(const struct op *op);
int op_caps(const struct op *op);
int op_seccomp(const struct op *op);
int op_execve(const struct op *op);

/* idmap.c (before CLONE, in the helper; IDMAP_ATTACH in the container process) */
int op_idmap_userns(const struct op *op);
int op_idmap_mount(const struct op *op);
int op_idmap_tree(const struct op *op);
int op_idmap_attach(struct child_ctx *ctx, const struct op *op);
void idmap_close_trees(void);

/* tty.c */
int op_terminal(struct child_ctx *ctx, const struct op *op);
int shim_receive_master(int sock);
int shim_send_console(const char *socket_path, int master);
void shim_relay(int master, pid_t child, int *status);
int recv_fd(int sock);
int send_fd(int sock, int fd, const char *name);

#endif
