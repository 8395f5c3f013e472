// The binary plan the native helper executes, defined once here. native/src/plan-ops.h is
// generated from this file (`npx tsx src/sys/plan-format.ts > native/src/plan-ops.h`) and a
// unit test checks the two agree.
//
// Layout (little endian): header "BRTHPLN1", then records until the end of the stream:
//   u32 op, u32 nints, u32 nstrs, u32 bytes-that-follow,
//   nints x u64, then nstrs x (u32 length, bytes, NUL).
// The helper runs the records in order: ops before CLONE run in the helper (the future
// shim), CLONE forks the container process, which runs the rest; the shim then waits.
//
// Sync channel (fd 4, a unix stream socket), helper -> TypeScript, 16-byte header
// u32 type, u32 a, u32 b, u32 length, then `length` bytes:
//   MSG_PID   a=pid of the container process (host namespace)
//   MSG_READY the container process is set up and waits for start (or has exec'd: exec mode)
//   MSG_ERROR a=index of the failing op, b=errno; bytes = "<step>\0<path>"
//   MSG_EXIT  a=exit code, b=signal number (0 if none)
// TypeScript -> helper: 'G' (go on after SYNC_WAIT), 'R' u16 cols u16 rows (resize pty).
// The shim -> the container process (the socket pair of the clone): 'G' after CGROUP_JOIN, read at SHIM_WAIT.

export const PLAN_MAGIC = 'BRTHPLN1';

/** op name -> code; order is the wire format, never renumber */
export const PLAN_OPS = {
  /** ints: clone flags. Forks the container process. */
  CLONE: 1,
  /** ints: nstype; strs: path */
  SETNS: 2,
  /** ints: flags */
  UNSHARE: 3,
  /** wait for 'G' on the sync channel */
  SYNC_WAIT: 4,
  /** strs: rootfs path; opens the directory that in-root targets resolve against */
  ROOTFS: 5,
  /** ints: flags, create (0 none, 1 dir, 2 file), inroot (1: target resolved inside rootfs); strs: source, target, fstype, data */
  MOUNT: 6,
  /** ints: mode, dev; strs: target (in root) */
  MKNOD: 7,
  /** strs: target, link path (in root) */
  SYMLINK: 8,
  /** strs: new root path */
  PIVOT_ROOT: 9,
  /** strs: path (inside the container); masks it with /dev/null or a read-only tmpfs */
  MASK_PATH: 10,
  /** strs: path (inside the container); bind-remounts it read-only keeping locked flags */
  READONLY_PATH: 11,
  /** strs: name */
  SETHOSTNAME: 12,
  /** strs: name */
  SETDOMAINNAME: 13,
  /** strs: path, contents */
  WRITE_FILE: 14,
  /** ints: resource, soft, hard */
  RLIMIT: 15,
  /** ints: uid, gid, additional gids... */
  CREDS: 16,
  /** ints: bounding set mask; drops every capability not in it */
  CAP_BOUNDING: 17,
  /** ints: effective, permitted, inheritable, ambient masks */
  CAPS: 18,
  /** ints: mask */
  UMASK: 19,
  NO_NEW_PRIVS: 20,
  /** strs: BPF program (struct sock_filter array) */
  SECCOMP: 21,
  /** strs: path */
  CHDIR: 22,
  SETSID: 23,
  /** ints: cols, rows. Opens a pty in the container's devpts, hands the master to the shim */
  TERMINAL: 24,
  /** strs: fifo path; opened now (O_PATH), written at FIFO_WAIT */
  FIFO_OPEN: 25,
  /** send MSG_READY, then block until `start` opens the fifo for reading */
  FIFO_WAIT: 26,
  /** send MSG_READY (exec mode: no fifo) */
  READY: 27,
  /** ints: argc, envc; strs: PATH value, argv..., env... */
  EXECVE: 28,
  /** strs: path of the exit status file the shim writes (atomically) */
  EXIT_FILE: 29,
  /** strs: unix socket path; the shim sends the pty master there instead of relaying */
  CONSOLE_SOCKET: 30,
  /** ints: 1 = the shim relays the pty over its stdin/stdout */
  TERMINAL_RELAY: 31,
  /** ints: fd; the shim closes this fd (e.g. stdio it no longer needs) */
  CLOSE_FD: 32,
  /** ints: score; writes /proc/self/oom_score_adj */
  OOM_SCORE_ADJ: 33,
  /**
   * The shim becomes a child subreaper (external runtimes): when its direct child (e.g.
   * `runc create`) exits 0 it sends MSG_READY and then reports the exit of the process
   * that was reparented to it (the container's init).
   */
  SUBREAPER: 34,
  /** strs: uid_map text, gid_map text; the helper makes a user namespace with them for IDMAP_MOUNT (idmap.c) */
  IDMAP_USERNS: 35,
  /** ints: recursive; strs: source, target; an idmapped clone of source moved onto target (host paths) */
  IDMAP_MOUNT: 36,
  /** send MSG_READY and exit 0: the end of a plan that starts no container (e.g. only idmapped mounts) */
  DONE: 37,
  /** send MSG_HOOKS, then wait for 'G': the create hooks run while the container waits, mounts made, before pivot_root */
  HOOK_WAIT: 38,
  /** ints: slot, recursive; strs: source (host path). Before CLONE: an idmapped clone of source through the IDMAP_USERNS namespace, kept detached in the slot */
  IDMAP_TREE: 39,
  /** ints: slot, create (1 dir, 2 file); strs: target (in root). The container process attaches the slot's detached tree there (move_mount) */
  IDMAP_ATTACH: 40,
  /** strs: cgroup.procs files; the shim writes the container's pid to each right after CLONE, before MSG_PID */
  CGROUP_JOIN: 41,
  /** instead of SYNC_WAIT when TypeScript has nothing to do for the new process (no id maps to write): wait for the shim's word that it sits in its cgroup (CGROUP_JOIN done) */
  SHIM_WAIT: 42,
} as const;

export type PlanOpName = keyof typeof PLAN_OPS;

export const SYNC_MESSAGES = { MSG_PID: 1, MSG_READY: 2, MSG_ERROR: 3, MSG_EXIT: 4, MSG_HOOKS: 5 } as const;

/** The C header for the helper, generated from the tables above. */
export function renderPlanHeader(): string {
  const lines = [
    '/* Generated from src/sys/plan-format.ts by `npx tsx src/sys/plan-format.ts`; do not edit. */',
    '#ifndef BERTH_PLAN_OPS_H',
    '#define BERTH_PLAN_OPS_H',
    `#define PLAN_MAGIC "${PLAN_MAGIC}"`,
    '',
  ];
  for (const [name, code] of Object.entries(PLAN_OPS)) lines.push(`#define OP_${name} ${code}`);
  lines.push(`#define OP_MAX ${Math.max(...Object.values(PLAN_OPS))}`);
  lines.push('static const char *const plan_op_names[] = {');
  lines.push('  [0] = "none",');
  for (const [name, code] of Object.entries(PLAN_OPS)) lines.push(`  [${code}] = "${name.toLowerCase()}",`);
  lines.push('};');
  lines.push('');
  for (const [name, code] of Object.entries(SYNC_MESSAGES)) lines.push(`#define ${name} ${code}`);
  lines.push('#endif');
  return lines.join('\n') + '\n';
}

if (process.argv[1] !== undefined && /plan-format\.[jt]s$/.test(process.argv[1])) {
  process.stdout.write(renderPlanHeader());
}
