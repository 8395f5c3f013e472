/* Reading the binary plan from its fd (layout: src/sys/plan-format.ts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

static char *read_all(int fd, size_t *size) {
  size_t cap = 16384, len = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (len == cap) {
      char *grown = realloc(buf, cap *= 2);
      if (!grown) { free(buf); return NULL; }
      buf = grown;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { free(buf); return NULL; }
    if (n == 0) break;
    len += (size_t)n;
  }
  *size = len;
  return buf;
}

static uint32_t rd32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Parse one record at buf[*pos]; strings stay in buf (NUL-terminated there). */
static int parse_op(const char *buf, size_t size, size_t *pos, struct op *op) {
  if (size - *pos < 16) return -1;
  const char *p = buf + *pos;
  op->code = rd32(p);
  op->nints = rd32(p + 4);
  op->nstrs = rd32(p + 8);
  uint32_t body = rd32(p + 12);
  if (op->code == 0 || op->code > OP_MAX || op->nints > MAX_INTS || op->nstrs > MAX_STRS) return -1;
  if (body > size - *pos - 16) return -1;
  const char *b = p + 16, *end = b + body;
  if ((size_t)(end - b) < (size_t)op->nints * 8) return -1;
  uint64_t *ints = calloc(op->nints + 1, 8);
  const char **strs = calloc(op->nstrs + 1, sizeof *strs);
  uint32_t *lens = calloc(op->nstrs + 1, 4);
  if (!ints || !strs || !lens) return -1;
  memcpy(ints, b, (size_t)op->nints * 8);
  b += (size_t)op->nints * 8;
  for (uint32_t i = 0; i < op->nstrs; i++) {
    if (end - b < 4) return -1;
    uint32_t len = rd32(b);
    b += 4;
    if ((size_t)(end - b) < (size_t)len + 1 || b[len] != '\0') return -1;
    strs[i] = b;
    lens[i] = len;
    b += len + 1;
  }
  if (b != end) return -1;
  op->ints = ints;
  op->strs = strs;
  op->lens = lens;
  *pos += 16 + body;
  return 0;
}

int plan_read(int fd, struct plan *plan) {
  size_t size = 0, pos = 8, n = 0, cap = 64;
  char *buf = read_all(fd, &size);
  if (!buf) return fail("read_plan", NULL);
  if (size < 8 || memcmp(buf, PLAN_MAGIC, 8) != 0) { errno = EINVAL; return fail("read_plan", "magic"); }
  plan->ops = malloc(cap * sizeof *plan->ops);
  while (plan->ops && pos < size) {
    if (n == cap) {
      struct op *grown = realloc(plan->ops, (cap *= 2) * sizeof *grown);
      if (!grown) break;
      plan->ops = grown;
    }
    if (parse_op(buf, size, &pos, &plan->ops[n]) < 0) { errno = EINVAL; return fail("read_plan", "record"); }
    n++;
  }
  if (!plan->ops) { errno = ENOMEM; return fail("read_plan", NULL); }
  plan->nops = n;
  return 0;
}
