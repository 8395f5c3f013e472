/* Credentials and the last steps before execve: rlimits, groups/uid/gid, the five
 * capability sets, seccomp, and the program lookup along PATH. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

int op_rlimit(const struct op *op) {
  struct rlimit rl = { .rlim_cur = (rlim_t)op->ints[1], .rlim_max = (rlim_t)op->ints[2] };
  return setrlimit((int)op->ints[0], &rl) < 0 ? fail("setrlimit", NULL) : 0;
}

int op_creds(const struct op *op) {
  uid_t uid = (uid_t)op->ints[0];
  gid_t gid = (gid_t)op->ints[1];
  size_t ngroups = op->nints - 2;
  gid_t groups[MAX_INTS];
  for (size_t i = 0; i < ngroups; i++) groups[i] = (gid_t)op->ints[i + 2];
  /* keep the permitted set across setuid; CAPS sets the wanted sets right after */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail("keepcaps", NULL);
  if (setgroups(ngroups, groups) < 0 && !(errno == EPERM && ngroups == 0)) return fail("setgroups", NULL);
  if (setresgid(gid, gid, gid) < 0) return fail("setgid", NULL);
  if (setresuid(uid, uid, uid) < 0) return fail("setuid", NULL);
  return 0;
}

int op_cap_bounding(const struct op *op) {
  uint64_t keep = op->ints[0];
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      return fail("capbset_drop", NULL);
    }
  }
  return 0;
}

int op_caps(const struct op *op) {
  uint64_t eff = op->ints[0], perm = op->ints[1], inh = op->ints[2], amb = op->ints[3];
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = {
    { .effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh },
    { .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32) },
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return fail("capset", NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return fail("ambient_clear", NULL);
  for (int cap = 0; cap <= 63; cap++) {
    if (!(amb & (1ULL << cap))) continue;
    /* a capability missing from the inheritable set cannot be ambient: skipped, as runc does */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM) return fail("ambient_raise", NULL);
  }
  return 0;
}

int op_seccomp(const struct op *op) {
  struct sock_fprog prog = { .len = (unsigned short)(op->lens[0] / sizeof(struct sock_filter)),
                             .filter = (struct sock_filter *)(uintptr_t)op->strs[0] };
  if (op->lens[0] % sizeof(struct sock_filter) != 0 || prog.len == 0) { errno = EINVAL; return fail("seccomp", NULL); }
  /* the strings of the plan are not 8-aligned: copy the program */
  struct sock_filter *copy = malloc(op->lens[0]);
  if (!copy) return fail("seccomp", NULL);
  memcpy(copy, op->strs[0], op->lens[0]);
  prog.filter = copy;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return fail("seccomp", NULL);
  return 0;
}

/* execvpe with an explicit PATH: the container's env decides, not ours. */
int op_execve(const struct op *op) {
  size_t argc = (size_t)op->ints[0], envc = (size_t)op->ints[1];
  const char *pathvar = op->strs[0];
  char **argv = calloc(argc + 1, sizeof *argv), **envp = calloc(envc + 1, sizeof *envp);
  if (!argv || !envp || argc == 0 || 1 + argc + envc > op->nstrs) { errno = EINVAL; return fail("execve", NULL); }
  for (size_t i = 0; i < argc; i++) argv[i] = (char *)op->strs[1 + i];
  for (size_t i = 0; i < envc; i++) envp[i] = (char *)op->strs[1 + argc + i];
  const char *file = argv[0];
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return fail("execve", file);
  }
  int first_err = ENOENT;
  const char *p = pathvar;
  char full[4096];
  while (*p) {
    const char *colon = strchrnul(p, ':');
    int n = snprintf(full, sizeof full, "%.*s/%s", (int)(colon - p), p, file);
    if (n > 0 && (size_t)n < sizeof full) {
      execve(full, argv, envp);
      if (errno != ENOENT && errno != ENOTDIR && first_err == ENOENT) first_err = errno;
    }
    p = *colon ? colon + 1 : colon;
  }
  errno = first_err;
  return fail("execve", file);
}
