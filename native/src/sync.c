/* The sync channel to TypeScript (fd 4); message layout in src/sys/plan-format.ts. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* TypeScript went away: nothing to tell anyone */
    buf += n;
    len -= (size_t)n;
  }
}

void sync_send(uint32_t type, uint32_t a, uint32_t b, const char *s1, const char *s2) {
  char msg[16 + 8192];
  size_t l1 = s1 ? strnlen(s1, 4000) : 0, l2 = s2 ? strnlen(s2, 4000) : 0;
  uint32_t len = (s1 || s2) ? (uint32_t)(l1 + 1 + l2) : 0;
  memcpy(msg, &type, 4);
  memcpy(msg + 4, &a, 4);
  memcpy(msg + 8, &b, 4);
  memcpy(msg + 12, &len, 4);
  if (len) {
    memcpy(msg + 16, s1 ? s1 : "", l1);
    msg[16 + l1] = '\0';
    memcpy(msg + 17 + l1, s2 ? s2 : "", l2);
  }
  write_all(SYNC_FD, msg, 16 + len);
}

int sync_wait_go(void) {
  char c = 0;
  for (;;) {
    ssize_t n = read(SYNC_FD, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && c == 'G') return 0;
    if (n == 0) errno = EPIPE;
    else if (n == 1) errno = EPROTO;
    return fail("sync_wait", NULL);
  }
}
