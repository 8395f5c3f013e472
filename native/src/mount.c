/* Mounts inside the new mount namespace. Targets inside the rootfs are resolved with
 * openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd, never by joining strings. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "helper.h"

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/') path++;
  if (*path == '\0') path = ".";
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Open `path` inside the root, creating missing parents as directories and the last
 * component as a directory (kind 1) or an empty file (kind 2). */
int open_or_create(int rootfd, const char *path, int kind) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || kind == 0) return fd;
  char buf[4096];
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  char *slash = strrchr(buf, '/');
  const char *name = buf;
  int parent;
  if (slash && slash != buf) {
    *slash = '\0';
    parent = open_or_create(rootfd, buf, 1);
    name = slash + 1;
  } else {
    parent = open_in_root(rootfd, "/", O_PATH);
    name = slash ? slash + 1 : buf;
  }
  if (parent < 0) return -1;
  int rc = kind == 1 ? mkdirat(parent, name, 0755) : -1;
  if (kind == 2) {
    int f = openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    rc = f < 0 ? -1 : close(f);
  }
  int saved = errno;
  close(parent);
  if (rc < 0 && saved != EEXIST) { errno = saved; return -1; }
  return open_in_root(rootfd, path, O_PATH);
}

int op_mount(struct child_ctx *ctx, const struct op *op) {
  unsigned long flags = (unsigned long)op->ints[0];
  int create = (int)op->ints[1], inroot = (int)op->ints[2];
  const char *source = op->lens[0] ? op->strs[0] : NULL, *target = op->strs[1];
  const char *fstype = op->lens[2] ? op->strs[2] : NULL, *data = op->lens[3] ? op->strs[3] : NULL;
  char fdpath[64];
  int fd = -1;
  if (inroot) {
    if (ctx->rootfd < 0) { errno = EBADF; return fail("mount_target", target); }
    fd = open_or_create(ctx->rootfd, target, create);
    if (fd < 0) return fail("mount_target", target);
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
  }
  int rc = mount(source, inroot ? fdpath : target, fstype, flags, data);
  int saved = errno;
  if (fd >= 0) close(fd);
  errno = saved;
  return rc < 0 ? fail("mount", target) : 0;
}

int op_mknod(struct child_ctx *ctx, const struct op *op) {
  const char *target = op->strs[0];
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", target);
  char *slash = strrchr(parent, '/');
  if (!slash) { errno = EINVAL; return fail("mknod", target); }
  *slash = '\0';
  int dir = open_or_create(ctx->rootfd, parent[0] ? parent : "/", 1);
  if (dir < 0) return fail("mknod_parent", target);
  int dfd = openat(dir, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(dir);
  if (dfd < 0) return fail("mknod_parent", target);
  unlinkat(dfd, slash + 1, 0);
  int rc = mknodat(dfd, slash + 1, (mode_t)op->ints[0], (dev_t)op->ints[1]);
  if (rc == 0) rc = fchmodat(dfd, slash + 1, (mode_t)op->ints[0] & 07777, 0);
  /* ints[2], ints[3]: the node's owner from linux.devices[].uid/gid (runc chowns it too) */
  if (rc == 0 && op->nints >= 4) rc = fchownat(dfd, slash + 1, (uid_t)op->ints[2], (gid_t)op->ints[3], AT_SYMLINK_NOFOLLOW);
  int saved = errno;
  close(dfd);
  errno = saved;
  return rc < 0 ? fail("mknod", target) : 0;
}

int op_symlink(struct child_ctx *ctx, const struct op *op) {
  const char *link = op->strs[1];
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", link);
  char *slash = strrchr(parent, '/');
  if (!slash) { errno = EINVAL; return fail("symlink", link); }
  *slash = '\0';
  int dir = open_or_create(ctx->rootfd, parent[0] ? parent : "/", 1);
  if (dir < 0) return fail("symlink_parent", link);
  int dfd = openat(dir, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(dir);
  if (dfd < 0) return fail("symlink_parent", link);
  int rc = symlinkat(op->strs[0], dfd, slash + 1);
  int saved = errno;
  close(dfd);
  errno = saved;
  return rc < 0 && errno != EEXIST ? fail("symlink", link) : 0;
}

int op_pivot_root(const struct op *op) {
  const char *root = op->strs[0];
  if (chdir(root) < 0) return fail("pivot_root_chdir", root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) return fail("pivot_root", root);
  /* the old root is stacked under the new one: detach it */
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return fail("pivot_root_slave", root);
  if (umount2(".", MNT_DETACH) < 0) return fail("pivot_root_umount", root);
  if (chdir("/") < 0) return fail("pivot_root_chdir", "/");
  return 0;
}

int op_mask_path(const struct op *op) {
  const char *path = op->strs[0];
  struct stat st;
  if (stat(path, &st) < 0) return errno == ENOENT ? 0 : fail("mask_path", path);
  int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
                               : mount("/dev/null", path, NULL, MS_BIND, NULL);
  return rc < 0 ? fail("mask_path", path) : 0;
}

/* Locked flags (nosuid, nodev, noexec...) must be kept on a remount inside a user namespace. */
static unsigned long kept_flags(const char *path) {
  struct statvfs sv;
  unsigned long flags = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

int op_readonly_path(const struct op *op) {
  const char *path = op->strs[0];
  int self = strcmp(path, "/") == 0;
  if (!self && mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT ? 0 : fail("readonly_path_bind", path);
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(path), NULL) < 0)
    return fail("readonly_path", path);
  return 0;
}
