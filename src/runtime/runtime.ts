// The in-process interface of an OCI runtime: what the daemon uses to run a bundle.
// Two implementations: the built-in runtime (builtin-runtime.ts, namespaces through the
// native helper) and one that drives an external runc/crun binary (external-runtime.ts).
// Both follow the OCI lifecycle: create -> start -> (exit) -> delete.
import type { Readable, Writable, Duplex } from 'node:stream';
import type { Process, Spec, State } from '../oci/runtime-spec.js';
import type { PhaseTimer } from '../util/phase-timer.js';

export type { Process, State } from '../oci/runtime-spec.js';

/** fds 0, 1, 2 for the container process, owned (and closed) by the caller */
export type StdioFds = readonly [number, number, number];

/** How the container process gets its stdio. */
export interface IoOptions {
  /**
   * 'pipe' (default): the handle carries stdin/stdout/stderr streams, or one terminal
   * stream when process.terminal is true.
   * 'inherit': the process uses the caller's own fds 0-2 (the CLI's behaviour).
   * 'null': /dev/null for all three.
   * [in, out, err]: these open fds of the caller (berth-runtime's server: its client's fds);
   * with process.terminal and no console socket the shim relays the pty to them.
   */
  stdio?: 'pipe' | 'inherit' | 'null' | StdioFds;
  /**
   * With process.terminal: send the pty master to this unix socket (runc's
   * --console-socket) instead of relaying it through `ProcessHandle.io`.
   */
  consoleSocket?: string;
  /** write the container's pid (host pid namespace) to this file, as runc --pid-file does */
  pidFile?: string;
  /**
   * Detach: the process outlives the caller; its exit status is only observable through
   * state() (status 'stopped'). The handle's `exit` still settles when the caller's
   * process is alive to see it.
   */
  detach?: boolean;
  /** where the phases of create go (berthd logs them at debug level) */
  trace?: PhaseTimer;
  /**
   * create only: the bundle's config.json as the caller wrote it (parsed, validated), so the
   * built-in runtime does not read it back; it must equal the file, which external runtimes
   * (runc, crun) and `berth-runtime` still read.
   */
  spec?: Spec;
  /**
   * What the process gets where config.json is silent (rlimits it does not list, no
   * process.user.umask): by default what this process has; berth-runtime's resident server
   * passes its caller's, as a runtime the caller started itself would have.
   */
  inherit?: InheritedAttributes;
}

export interface InheritedRlimit {
  /** the kernel's RLIMIT_* number */
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface InheritedAttributes {
  umask: number;
  rlimits: readonly InheritedRlimit[];
}

export interface TraceOptions {
  trace?: PhaseTimer;
}

export interface PipeIo {
  kind: 'pipes';
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
}

export interface TerminalIo {
  kind: 'terminal';
  /** the pty master: write = keyboard input, read = screen output */
  terminal: Duplex;
  resize(cols: number, rows: number): Promise<void>;
}

/** No streams: stdio was inherited, /dev/null, or sent to a console socket. */
export interface NoIo {
  kind: 'none';
  /** with stdio fds and a terminal: the shim relays the pty to them, and this resizes it */
  resize?(cols: number, rows: number): Promise<void>;
}

export type ProcessIo = PipeIo | TerminalIo | NoIo;

export interface ExitStatus {
  /** exit code (0-255); 128+signal when killed by a signal, as shells report it */
  exitCode: number;
  /** the signal name when the process was killed by one, else null */
  signal: NodeJS.Signals | null;
}

/** A process started by create() or exec(). */
export interface ProcessHandle {
  /** pid in the host pid namespace */
  readonly pid: number;
  readonly io: ProcessIo;
  /** settles when the process has exited (after create: only once it has been started) */
  readonly exit: Promise<ExitStatus>;
}

export interface KillOptions {
  /** signal every process of the container (its cgroup), not just init */
  all?: boolean;
}

export interface DeleteOptions extends TraceOptions {
  /** kill a running or created container first (SIGKILL) instead of failing */
  force?: boolean;
  /** where a failing poststop hook's warning goes (default: process.emitWarning) */
  warn?: (message: string) => void;
}

export interface ContainerProcessInfo {
  pid: number;
  /** the command line from /proc/<pid>/cmdline */
  args: string[];
}

export interface Runtime {
  /** 'berth' for the built-in runtime, else the binary name (runc, crun) */
  readonly name: string;
  /**
   * create() takes the spec from IoOptions.spec and never reads config.json itself, so a
   * caller may write the file while the container is created (true for the built-in
   * runtime; runc and crun read the file)
   */
  readonly takesSpecInMemory: boolean;
  /**
   * Create a container from an OCI bundle: namespaces, cgroup, mounts and the pid exist
   * afterwards (status 'created'), the user program has not started. Errors are
   * BerthErrors naming the field or path; nothing is left behind on failure.
   */
  create(id: string, bundleDir: string, io?: IoOptions): Promise<ProcessHandle>;
  /** run the user program of a created container; a failing poststart hook stops it and is an error */
  start(id: string, options?: TraceOptions): Promise<void>;
  /** OCI state; not_found (NO_SUCH_CONTAINER) when there is no such container */
  state(id: string): Promise<State>;
  /** signal init (or every process with all); the signal as a name ('SIGTERM', 'TERM') or number */
  kill(id: string, signal: string | number, options?: KillOptions): Promise<void>;
  /** remove a stopped container: cgroup, state dir; poststop hooks run */
  delete(id: string, options?: DeleteOptions): Promise<void>;
  /** run another process inside a running container */
  exec(id: string, process: Process, io?: IoOptions): Promise<ProcessHandle>;
  /** freeze every process of the container (cgroup freezer) */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** the processes of the container */
  ps(id: string): Promise<ContainerProcessInfo[]>;
  /** every container under this runtime's root */
  list(): Promise<State[]>;
}
