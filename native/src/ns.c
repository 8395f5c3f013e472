/* Namespaces, hostname, and plain file writes (sysctl, oom_score_adj). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

int op_setns(const struct op *op) {
  int fd = open(op->strs[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("setns_open", op->strs[0]);
  int rc = setns(fd, (int)op->ints[0]);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc < 0 ? fail("setns", op->strs[0]) : 0;
}

int op_unshare(const struct op *op) {
  return unshare((int)op->ints[0]) < 0 ? fail("unshare", NULL) : 0;
}

int op_sethostname(const struct op *op, int domain) {
  int rc = domain ? setdomainname(op->strs[0], op->lens[0]) : sethostname(op->strs[0], op->lens[0]);
  return rc < 0 ? fail(domain ? "setdomainname" : "sethostname", op->strs[0]) : 0;
}

int op_write_file(const char *path, const char *contents, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0) return fail("write_file_open", path);
  ssize_t n = write(fd, contents, len);
  int saved = errno;
  close(fd);
  if (n < 0 || (size_t)n != len) { errno = n < 0 ? saved : EIO; return fail("write_file", path); }
  return 0;
}
