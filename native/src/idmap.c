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

static int write_map(pid_t pid, const char *file, const char *map, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  return op_write_file(path, map, len);
}

/* strs: uid_map text, gid_map text. A child unshares a user namespace, we write its maps
 * and keep an fd of the namespace; the child then exits (the fd keeps the namespace). */
int op_idmap_userns(const struct op *op) {
  int ready[2], release[2];
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
    if (idmap_userns < 0) rc = fail("idmap_open_userns", path);
  }
  close(release[1]);
  close(ready[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
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
