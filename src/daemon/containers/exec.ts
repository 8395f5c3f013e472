// `docker exec`: processes started inside a running container's namespaces and cgroup,
// with the container's process settings (env, capabilities, seccomp) unless overridden.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { BerthError, conflict, notFound } from '../../errors/berth-error.js';
import { parseRuntimeSpec, type Process } from '../../oci/runtime-spec.js';
import type { ProcessIo } from '../../runtime/runtime.js';
import { commandList } from './create-request.js';
import { grantableCapabilities } from './oci-defaults.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './record.js';
import { DetachScanner, parseDetachKeys, type OutputStream } from './stream-hub.js';
import { resolveUser } from './user.js';
import type { ProbeProcess } from './health/probe.js';

export const execCreateSchema = z.object({
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  ConsoleSize: z.array(z.number().int().min(0)).length(2).nullable().optional(),
  DetachKeys: z.string().optional(),
  Tty: z.boolean().optional(),
  Env: z.array(z.string()).nullable().optional(),
  Cmd: z.union([z.array(z.string()), z.string()]),
  Privileged: z.boolean().optional(),
  User: z.string().optional(),
  WorkingDir: z.string().optional(),
}).passthrough();
export type ExecCreateRequest = z.infer<typeof execCreateSchema>;

export const execStartSchema = z.object({
  Detach: z.boolean().optional(),
  Tty: z.boolean().optional(),
  ConsoleSize: z.array(z.number().int().min(0)).length(2).nullable().optional(),
}).passthrough();

interface ExecRecord {
  id: string;
  containerId: string;
  request: ExecCreateRequest;
  args: string[];
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  io: ProcessIo | undefined;
}

export interface ExecClient {
  input: Readable | undefined;
  write(stream: OutputStream, chunk: Buffer): void;
}

const MAX_EXECS = 1024;

export interface StartedExec {
  /** relay stdio to the client (undefined: discard) until the process exits */
  run(client: ExecClient | undefined): Promise<void>;
}

export class ExecService {
  private readonly execs = new Map<string, ExecRecord>();
  /** per container: the probe's process spec for the run that started at `startedAt` (probes repeat; the bundle does not change) */
  private readonly probeSpecs = new Map<string, { startedAt: string; process: Process }>();

  constructor(private readonly containers: ContainerService) {}

  async create(idOrName: string, request: ExecCreateRequest): Promise<{ Id: string }> {
    const record = this.containers.store.resolve(idOrName);
    if (!record.State.Running) throw conflict('NOT_RUNNING', `container ${record.Id} is not running`);
    if (record.State.Paused) throw conflict('PAUSED', `container ${record.Id} is paused, unpause the container before exec`);
    const args = commandList(request.Cmd) ?? [];
    if (args.length === 0) throw new BerthError('invalid_argument', 'NO_EXEC_COMMAND', 'no exec command specified');
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: record.Id, request, args, running: false, exitCode: null, pid: 0, started: false, io: undefined });
    this.trim();
    await this.containers.store.save({ ...record, ExecIDs: [...record.ExecIDs, id].slice(-64) });
    this.containers.emit(record, `exec_create: ${args.join(' ')}`, { execID: id });
    return { Id: id };
  }

  get(id: string): ExecRecord {
    const exec = this.execs.get(id);
    if (!exec) throw notFound('NO_SUCH_EXEC', `No such exec instance: ${id}`);
    return exec;
  }

  /** The conflicts that keep an exec from starting, thrown before anything is answered. */
  checkStartable(id: string): { exec: ExecRecord; record: ContainerRecord } {
    const exec = this.get(id);
    if (exec.started) throw conflict('EXEC_STARTED', `exec ${id} has already been started`);
    const record = this.containers.store.resolve(exec.containerId);
    if (!record.State.Running) throw conflict('NOT_RUNNING', `container ${record.Id} is not running`);
    return { exec, record };
  }

  /**
   * Start the exec process. Failures to start are thrown here (a clean HTTP error); the
   * returned `run` relays its stdio (or discards it when detached) until it exits.
   */
  async start(id: string, options: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<StartedExec> {
    const { exec, record } = this.checkStartable(id);
    exec.started = true;
    const process = await this.processSpec(exec, options.consoleSize);
    const runtime = this.containers.deps.runtimes.get(record.Runtime);
    const handle = await runtime.exec(record.Id, process, { stdio: 'pipe' });
    exec.running = true;
    exec.pid = handle.pid;
    exec.io = handle.io;
    this.containers.emit(record, `exec_start: ${exec.args.join(' ')}`, { execID: id });
    return {
      run: async (client) => {
        const output = options.detach || !client ? drainOutput(handle.io) : this.relay(exec, handle.io, client);
        const status = await handle.exit;
        await output;
        exec.running = false;
        exec.exitCode = status.exitCode;
        exec.io = undefined;
        this.containers.emit(record, 'exec_die', { execID: id, exitCode: String(status.exitCode) });
      },
    };
  }

  /**
   * A health probe: an exec with the container's own user, env and cwd whose output goes
   * to the caller. Like docker it gets exec_create/exec_start/exec_die events, but it is
   * not listed in ExecIDs and not kept for exec inspect.
   */
  async startProbe(containerId: string, args: string[]): Promise<ProbeProcess> {
    const record = this.containers.store.resolve(containerId);
    if (!record.State.Running) throw conflict('NOT_RUNNING', `container ${record.Id} is not running`);
    const id = randomBytes(32).toString('hex');
    const exec: ExecRecord = { id, containerId: record.Id, request: { Cmd: args, AttachStdout: true, AttachStderr: true }, args,
      running: true, exitCode: null, pid: 0, started: true, io: undefined };
    const command = args.join(' ');
    this.containers.emit(record, `exec_create: ${command}`, { execID: id });
    const process = await this.probeSpec(record.Id, record.State.StartedAt, exec);
    const handle = await this.containers.deps.runtimes.get(record.Runtime).exec(record.Id, process, { stdio: 'pipe' });
    this.containers.emit(record, `exec_start: ${command}`, { execID: id });
    const exit = handle.exit.then((status) => {
      this.containers.emit(record, 'exec_die', { execID: id, exitCode: String(status.exitCode) });
      return status;
    });
    return { pid: handle.pid, io: handle.io, exit };
  }

  private async probeSpec(containerId: string, startedAt: string, exec: ExecRecord): Promise<Process> {
    const cached = this.probeSpecs.get(containerId);
    if (cached?.startedAt === startedAt) return { ...cached.process, args: exec.args };
    const process = await this.processSpec(exec, undefined);
    if (this.probeSpecs.size >= MAX_EXECS) this.probeSpecs.clear();
    this.probeSpecs.set(containerId, { startedAt, process });
    return process;
  }

  isTty(id: string): boolean {
    return this.get(id).request.Tty === true;
  }

  async resize(id: string, cols: number, rows: number): Promise<void> {
    const exec = this.get(id);
    if (exec.io?.kind === 'terminal') await exec.io.resize(cols, rows);
  }

  inspect(id: string): Record<string, unknown> {
    const exec = this.get(id);
    return {
      ID: exec.id, Running: exec.running, ExitCode: exec.exitCode, ProcessConfig: {
        tty: exec.request.Tty ?? false, entrypoint: exec.args[0] ?? '', arguments: exec.args.slice(1),
        privileged: exec.request.Privileged ?? false, user: exec.request.User ?? '',
      },
      OpenStdin: exec.request.AttachStdin ?? false, OpenStderr: exec.request.AttachStderr ?? false,
      OpenStdout: exec.request.AttachStdout ?? false, CanRemove: false, ContainerID: exec.containerId,
      DetachKeys: exec.request.DetachKeys ?? '', Pid: exec.pid,
    };
  }

  private async processSpec(exec: ExecRecord, consoleSize: [number, number] | undefined): Promise<Process> {
    const bundle = this.containers.bundleDir(exec.containerId);
    const spec = parseRuntimeSpec(JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as unknown);
    const base = spec.process;
    if (!base || !spec.root) throw new BerthError('internal', 'NO_BUNDLE', `container ${exec.containerId} has no process spec`);
    const request = exec.request;
    const user = request.User ? await resolveUser(path.resolve(bundle, spec.root.path), request.User) : undefined;
    const env = new Map<string, string>();
    for (const entry of [...(base.env ?? []), ...(request.Env ?? [])]) env.set(entry.split('=')[0] ?? entry, entry);
    const size = request.ConsoleSize ?? consoleSize;
    const caps = request.Privileged ? grantableCapabilities() : undefined;
    return {
      ...base,
      terminal: request.Tty === true,
      ...(request.Tty && size ? { consoleSize: { height: size[0] ?? 24, width: size[1] ?? 80 } } : {}),
      args: exec.args,
      env: [...env.values()],
      cwd: request.WorkingDir || base.cwd,
      user: user ? { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } : base.user,
      ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps } } : {}),
    };
  }

  private relay(exec: ExecRecord, io: ProcessIo, client: ExecClient): Promise<void> {
    const keys = parseDetachKeys(exec.request.DetachKeys);
    if (io.kind === 'none') return Promise.resolve();
    const stdin = io.kind === 'terminal' ? io.terminal : io.stdin;
    if (exec.request.AttachStdin && client.input) {
      const scanner = new DetachScanner(keys);
      client.input.on('data', (chunk: Buffer) => {
        const { forward } = scanner.push(chunk);
        if (forward.length > 0 && !stdin.destroyed) stdin.write(forward);
      });
      client.input.on('end', () => { if (io.kind === 'pipes') io.stdin.end(); });
      client.input.on('error', () => undefined);
    } else if (io.kind === 'pipes') {
      io.stdin.end();
    }
    const wanted = (stream: OutputStream): boolean => (stream === 'stdout' ? exec.request.AttachStdout : exec.request.AttachStderr) !== false;
    if (io.kind === 'terminal') return forward(io.terminal, (c) => client.write('stdout', c));
    return Promise.all([
      forward(io.stdout, (c) => { if (wanted('stdout')) client.write('stdout', c); }),
      forward(io.stderr, (c) => { if (wanted('stderr')) client.write('stderr', c); }),
    ]).then(() => undefined);
  }

  private trim(): void {
    if (this.execs.size <= MAX_EXECS) return;
    for (const [id, exec] of this.execs) {
      if (!exec.running && this.execs.size > MAX_EXECS) this.execs.delete(id);
    }
  }
}

function forward(source: Readable, write: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve) => {
    source.on('data', write);
    source.on('end', resolve);
    source.on('close', resolve);
    source.on('error', () => resolve());
  });
}

function drainOutput(io: ProcessIo): Promise<void> {
  if (io.kind === 'none') return Promise.resolve();
  if (io.kind === 'terminal') return forward(io.terminal, () => undefined);
  io.stdin.end();
  return Promise.all([forward(io.stdout, () => undefined), forward(io.stderr, () => undefined)]).then(() => undefined);
}
