/* Idmapped mounts for containers in a user namespace (run by the helper before CLONE,
 * as root of the host): a user namespace that carries the container's id maps, and
 * clones of host directories idmapped through it, moved onto targets TypeScript chose
 * (overlay lower layers, bind sources). No policy: the maps and paths come from the plan. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

static int idmap_userns = -1;

/* Detached idmapped trees (IDMAP_TREE) waiting for the container process to attach them. */
#define IDMAP_TREE_SLOTS 64
static int idmap_trees[IDMAP_TREE_SLOTS];
static int idmap_trees_used;

static int write_map(pid_t pid, const char *file, const char *map, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  return op_write_file(path, map, len);
}

/* strs: uid_map text, gid_map text. A child unshares a user namespace, we write its maps
 * and keep an fd of the namespace; the child then exits (the fd keeps the namespace). */
int op_idmap_userns(const struct op *op) {
  int ready[2], release[2];
  int previous = idmap_userns;
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0) return fail("idmap_pipe", NULL);
  pid_t pid = fork();
  if (pid < 0) return fail("idmap_fork", NULL);
  if (pid == 0) {
    close(ready[0]);
    close(release[1]);
    char c = unshare(CLONE_NEWUSER) < 0 ? 'E' : 'U';
    if (write(ready[1], &c, 1) != 1 || c == 'E') _exit(1);
    while (read(release[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char c = 0;
  int rc = 0;
  while (read(ready[0], &c, 1) < 0 && errno == EINTR) {}
  if (c != 'U') { errno = c == 'E' ? EPERM : ECHILD; rc = fail("idmap_unshare_user", NULL); }
  if (rc == 0) rc = write_map(pid, "uid_map", op->strs[0], op->lens[0]);
  if (rc == 0) rc = write_map(pid, "gid_map", op->strs[1], op->lens[1]);
  if (rc == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    idmap_userns = open(path, O_RDONLY | O_CLOEXEC);
    if (idmap_userns < 0) { rc = fail("idmap_open_userns", path); idmap_userns = previous; }
  }
  close(release[1]);
  close(ready[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  /* a later IDMAP_USERNS (another mount's maps) replaces the previous namespace */
  if (rc == 0 && previous >= 0) close(previous);
  else if (rc != 0) idmap_userns = previous;
  return rc;
}

/* ints: recursive; strs: source, target. open_tree(OPEN_TREE_CLONE) + MOUNT_ATTR_IDMAP +
 * move_mount onto target: target shows source's files with ids shifted by the maps. */
int op_idmap_mount(const struct op *op) {
  const char *source = op->strs[0], *target = op->strs[1];
  unsigned recursive = op->ints[0] ? AT_RECURSIVE : 0;
  if (idmap_userns < 0) { errno = EINVAL; return fail("idmap_no_userns", source); }
  int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive);
  if (tree < 0) return fail("idmap_open_tree", source);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)idmap_userns };
  int rc = 0;
  if (mount_setattr(tree, "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) < 0) rc = fail("idmap_mount_setattr", source);
  else if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) rc = fail("idmap_move_mount", target);
  int saved = errno;
  close(tree);
  errno = saved;
  return rc;
}

/* open_tree clone of source with the maps of the IDMAP_USERNS namespace, for an idmap or
 * ridmap OCI mount: it must be made by root of the host (mount_setattr needs it), then
 * attached by the container process in its own mount namespace (IDMAP_ATTACH). */
static int idmapped_tree(const char *source, unsigned recursive) {
  if (idmap_userns < 0) { errno = EINVAL; return fail("idmap_no_userns", source); }
  int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive);
  if (tree < 0) return fail("idmap_open_tree", source);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)idmap_userns };
  if (mount_setattr(tree, "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) < 0) {
    int saved = errno;
    close(tree);
    errno = saved;
    return fail("idmap_mount_setattr", source);
  }
  return tree;
}

/* ints: slot, recursive; strs: source */
int op_idmap_tree(const struct op *op) {
  uint64_t slot = op->ints[0];
  if (slot >= IDMAP_TREE_SLOTS || idmap_trees_used != (int)slot) { errno = EINVAL; return fail("idmap_tree_slot", op->strs[0]); }
  int tree = idmapped_tree(op->strs[0], op->ints[1] ? AT_RECURSIVE : 0);
  if (tree < 0) return -1;
  idmap_trees[idmap_trees_used++] = tree;
  return 0;
}

/* ints: slot, create kind; strs: target in the rootfs */
int op_idmap_attach(struct child_ctx *ctx, const struct op *op) {
  uint64_t slot = op->ints[0];
  const char *target = op->strs[0];
  if (slot >= (uint64_t)idmap_trees_used) { errno = EINVAL; return fail("idmap_attach_slot", target); }
  if (ctx->rootfd < 0) { errno = EBADF; return fail("mount_target", target); }
  int fd = open_or_create(ctx->rootfd, target, (int)op->ints[1]);
  if (fd < 0) return fail("mount_target", target);
  int rc = move_mount(idmap_trees[slot], "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc < 0 ? fail("idmap_attach", target) : 0;
}

void idmap_close_trees(void) {
  for (int i = 0; i < idmap_trees_used; i++) close(idmap_trees[i]);
  idmap_trees_used = 0;
}
