/* Generated from src/sys/plan-format.ts by `npx tsx src/sys/plan-format.ts`; do not edit. */
#ifndef BERTH_PLAN_OPS_H
#define BERTH_PLAN_OPS_H
#define PLAN_MAGIC "BRTHPLN1"

#define OP_CLONE 1
#define OP_SETNS 2
#define OP_UNSHARE 3
#define OP_SYNC_WAIT 4
#define OP_ROOTFS 5
#define OP_MOUNT 6
#define OP_MKNOD 7
#define OP_SYMLINK 8
#define OP_PIVOT_ROOT 9
#define OP_MASK_PATH 10
#define OP_READONLY_PATH 11
#define OP_SETHOSTNAME 12
#define OP_SETDOMAINNAME 13
#define OP_WRITE_FILE 14
#define OP_RLIMIT 15
#define OP_CREDS 16
#define OP_CAP_BOUNDING 17
#define OP_CAPS 18
#define OP_UMASK 19
#define OP_NO_NEW_PRIVS 20
#define OP_SECCOMP 21
#define OP_CHDIR 22
#define OP_SETSID 23
#define OP_TERMINAL 24
#define OP_FIFO_OPEN 25
#define OP_FIFO_WAIT 26
#define OP_READY 27
#define OP_EXECVE 28
#define OP_EXIT_FILE 29
#define OP_CONSOLE_SOCKET 30
#define OP_TERMINAL_RELAY 31
#define OP_CLOSE_FD 32
#define OP_OOM_SCORE_ADJ 33
#define OP_SUBREAPER 34
#define OP_MAX 34
static const char *const plan_op_names[] = {
  [0] = "none",
  [1] = "clone",
  [2] = "setns",
  [3] = "unshare",
  [4] = "sync_wait",
  [5] = "rootfs",
  [6] = "mount",
  [7] = "mknod",
  [8] = "symlink",
  [9] = "pivot_root",
  [10] = "mask_path",
  [11] = "readonly_path",
  [12] = "sethostname",
  [13] = "setdomainname",
  [14] = "write_file",
  [15] = "rlimit",
  [16] = "creds",
  [17] = "cap_bounding",
  [18] = "caps",
  [19] = "umask",
  [20] = "no_new_privs",
  [21] = "seccomp",
  [22] = "chdir",
  [23] = "setsid",
  [24] = "terminal",
  [25] = "fifo_open",
  [26] = "fifo_wait",
  [27] = "ready",
  [28] = "execve",
  [29] = "exit_file",
  [30] = "console_socket",
  [31] = "terminal_relay",
  [32] = "close_fd",
  [33] = "oom_score_adj",
  [34] = "subreaper",
};

#define MSG_PID 1
#define MSG_READY 2
#define MSG_ERROR 3
#define MSG_EXIT 4
#endif
