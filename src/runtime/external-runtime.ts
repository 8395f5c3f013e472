// The Runtime interface over an external OCI runtime binary (runc, crun). `create` runs
// under the native helper acting as a child subreaper, so the container's init is
// reparented to it and its exit status is observable (as containerd-shim/conmon do).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BerthError, invalidArgument, notFound } from '../errors/berth-error.js';
import type { Process, State } from '../oci/runtime-spec.js';
import { runProgram } from '../sys/exec.js';
import { startHelper, type HelperSession } from '../sys/helper.js';
import type { PlanOp } from '../sys/plan-writer.js';
import { signalName } from './linux-constants.js';
import type { ContainerProcessInfo, DeleteOptions, IoOptions, KillOptions, ProcessHandle, ProcessIo, Runtime } from './runtime.js';

const stateSchema = z.object({
  ociVersion: z.string(),
  id: z.string(),
  status: z.enum(['creating', 'created', 'running', 'stopped', 'paused']),
  pid: z.number().int().optional(),
  bundle: z.string(),
  annotations: z.record(z.string()).nullable().optional(),
});

export interface ExternalRuntimeOptions {
  /** absolute path of runc/crun */
  binary: string;
  /** the runtime's --root */
  root?: string;
}

function runProgramPlan(argv: string[], env: string[] = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']): PlanOp[] {
  return [
    { op: 'SUBREAPER' },
    { op: 'CLONE', ints: [0] },
    { op: 'EXECVE', ints: [argv.length, env.length], strs: ['/usr/sbin:/usr/bin:/sbin:/bin', ...argv, ...env] },
  ];
}

export class ExternalRuntime implements Runtime {
  readonly name: string;
  readonly takesSpecInMemory = false;

  constructor(private readonly options: ExternalRuntimeOptions) {
    this.name = path.basename(options.binary);
  }

  private globalArgs(): string[] {
    return this.options.root ? ['--root', this.options.root] : [];
  }

  private async run(args: string[], input?: string): Promise<string> {
    const result = await runProgram(this.options.binary, [...this.globalArgs(), ...args], { allowFailure: true, input });
    if (result.code !== 0) {
      const message = result.stderr.trim().split('\n').pop() ?? '';
      if (/does not exist|not found|no such/i.test(message)) throw notFound('NO_SUCH_CONTAINER', `${this.name}: ${message}`);
      throw new BerthError('internal', 'RUNTIME_FAILED', `${this.name} ${args[0] ?? ''} failed: ${message}`);
    }
    return result.stdout;
  }

  async create(id: string, bundleDir: string, io: IoOptions = {}): Promise<ProcessHandle> {
    const work = await mkdtemp(path.join(os.tmpdir(), 'berth-ext-'));
    const pidFile = io.pidFile ?? path.join(work, 'pid');
    const args = [this.options.binary, ...this.globalArgs(), 'create', '--bundle', path.resolve(bundleDir), '--pid-file', pidFile];
    if (io.consoleSocket) args.push('--console-socket', io.consoleSocket);
    args.push(id);
    const session = startHelper(runProgramPlan(args), { stdio: io.stdio ?? 'pipe', detached: io.detach ?? false });
    const stderr: Buffer[] = [];
    session.stderr?.on('data', (chunk: Buffer) => { if (stderr.length < 64) stderr.push(chunk); });
    try {
      await Promise.race([session.ready, session.exit.then((exit) => {
        throw new BerthError('internal', 'RUNTIME_FAILED',
          `${this.name} create ${id} failed (exit ${exit.exitCode}): ${Buffer.concat(stderr).toString().trim()}`);
      })]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const state = await this.state(id);
    return this.handleFor(session, state.pid ?? 0, io);
  }

  private handleFor(session: HelperSession, pid: number, io: IoOptions): ProcessHandle {
    const exit = session.exit.then((e) => ({ exitCode: e.exitCode, signal: e.signal ? signalName(e.signal) : null }));
    if (io.detach) session.detach();
    let processIo: ProcessIo = { kind: 'none' };
    if ((io.stdio ?? 'pipe') === 'pipe' && session.stdin && session.stdout && session.stderr) {
      processIo = { kind: 'pipes', stdin: session.stdin, stdout: session.stdout, stderr: session.stderr };
    }
    return { pid, io: processIo, exit };
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  async state(id: string): Promise<State> {
    const parsed = stateSchema.safeParse(JSON.parse(await this.run(['state', id])));
    if (!parsed.success) throw new BerthError('internal', 'RUNTIME_FAILED', `${this.name} state ${id}: unexpected output`);
    const { annotations, ...rest } = parsed.data;
    return annotations ? { ...rest, annotations } : rest;
  }

  async kill(id: string, signal: string | number, options: KillOptions = {}): Promise<void> {
    await this.run(['kill', ...(options.all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, options: DeleteOptions = {}): Promise<void> {
    await this.run(['delete', ...(options.force ? ['--force'] : []), id]);
  }

  async exec(id: string, proc: Process, io: IoOptions = {}): Promise<ProcessHandle> {
    if (proc.terminal && !io.consoleSocket && (io.stdio ?? 'pipe') === 'pipe') {
      throw new BerthError('not_implemented', 'TERMINAL_NEEDS_CONSOLE_SOCKET', `${this.name} exec with a terminal needs a console socket`);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ext-exec-'));
    await mkdir(dir, { recursive: true });
    const processFile = path.join(dir, 'process.json');
    await writeFile(processFile, JSON.stringify(proc));
    const pidFile = io.pidFile ?? path.join(dir, 'pid');
    const args = [this.options.binary, ...this.globalArgs(), 'exec', '--process', processFile, '--pid-file', pidFile];
    if (io.consoleSocket) args.push('--console-socket', io.consoleSocket);
    args.push(id);
    // runc exec stays in the foreground and exits with the process: a plain child suffices
    const session = startHelper([{ op: 'CLONE', ints: [0] }, {
      op: 'EXECVE', ints: [args.length, 1], strs: ['/usr/sbin:/usr/bin:/sbin:/bin', ...args, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
    }], { stdio: io.stdio ?? 'pipe', detached: io.detach ?? false });
    await session.pid;
    const pid = await readPidFile(pidFile, session);
    void session.exit.finally(() => rm(dir, { recursive: true, force: true })).catch(() => undefined);
    return this.handleFor(session, pid, io);
  }

  async pause(id: string): Promise<void> { await this.run(['pause', id]); }
  async resume(id: string): Promise<void> { await this.run(['resume', id]); }

  async ps(id: string): Promise<ContainerProcessInfo[]> {
    const pids = z.array(z.number().int()).safeParse(JSON.parse(await this.run(['ps', '--format', 'json', id])));
    if (!pids.success) throw invalidArgument('RUNTIME_FAILED', `${this.name} ps ${id}: unexpected output`);
    return pids.data.map((pid) => ({ pid, args: [] }));
  }

  async list(): Promise<State[]> {
    const text = await this.run(['list', '--format', 'json']);
    const parsed = z.array(stateSchema).nullable().safeParse(JSON.parse(text.trim() === '' ? 'null' : text));
    if (!parsed.success) throw new BerthError('internal', 'RUNTIME_FAILED', `${this.name} list: unexpected output`);
    return (parsed.data ?? []).map(({ annotations, ...rest }) => (annotations ? { ...rest, annotations } : rest));
  }
}


/** runc writes --pid-file once the process exists; give up when the runtime has exited. */
async function readPidFile(file: string, session: HelperSession): Promise<number> {
  let exited = false;
  void session.exit.finally(() => { exited = true; }).catch(() => undefined);
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+$/.test(text.trim())) return Number(text.trim());
    if (exited) return 0;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
