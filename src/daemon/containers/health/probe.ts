// One health probe: run the check command as an exec in the container, keep the start of
// its output, and kill it when it overruns its timeout (docker then records exit -1 and
// "Health check exceeded timeout (30s)").
import type { Readable } from 'node:stream';
import type { ExitStatus, ProcessIo } from '../../../runtime/runtime.js';
import { nowRfc3339 } from '../record.js';
import { goDuration } from './config.js';
import { MAX_OUTPUT_BYTES, truncateOutput, type HealthLogEntry } from './state.js';

/** A started exec, as the exec service hands it over. */
export interface ProbeProcess {
  pid: number;
  io: ProcessIo;
  exit: Promise<ExitStatus>;
}

export interface ProbeRunner {
  /** start the command inside the container (an exec with the container's user, env and cwd) */
  launch(args: string[]): Promise<ProbeProcess>;
  /** SIGKILL the probe's process (host pid) */
  kill(pid: number): void;
}

/** How long to wait for a killed probe to be reaped, and for output after the exit. */
const REAP_WAIT_MS = 2_000;

export async function runProbe(runner: ProbeRunner, args: string[], timeoutMs: number): Promise<HealthLogEntry> {
  const start = nowRfc3339();
  let probe: ProbeProcess;
  try {
    probe = await runner.launch(args);
  } catch (err) {
    // docker records a probe that could not run as exit -1 with the error as output
    return { Start: start, End: nowRfc3339(), ExitCode: -1, Output: err instanceof Error ? err.message : String(err) };
  }
  const output = collectOutput(probe.io);
  const exited = await raceTimeout(probe.exit, timeoutMs);
  if (exited === undefined) {
    try {
      runner.kill(probe.pid);
    } catch {
      // it exited between the timer and the kill
    }
    await raceTimeout(probe.exit, REAP_WAIT_MS);
    output.stop();
    return { Start: start, End: nowRfc3339(), ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutMs)})` };
  }
  // a child the check left behind may hold the pipes open: do not wait for it long
  await raceTimeout(output.done, REAP_WAIT_MS);
  output.stop();
  return { Start: start, End: nowRfc3339(), ExitCode: exited.exitCode, Output: output.text() };
}

function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface CollectedOutput {
  done: Promise<void>;
  text(): string;
  /** close the streams (the probe is over) */
  stop(): void;
}

/** stdout and stderr together, as docker's probe writes both into one buffer. */
function collectOutput(io: ProcessIo): CollectedOutput {
  if (io.kind === 'none') return { done: Promise.resolve(), text: () => '', stop: () => undefined };
  const sources: Readable[] = io.kind === 'terminal' ? [io.terminal] : [io.stdout, io.stderr];
  if (io.kind === 'pipes') io.stdin.end();
  const chunks: Buffer[] = [];
  let size = 0;
  const done = Promise.all(sources.map((source) => new Promise<void>((resolve) => {
    source.on('data', (chunk: Buffer) => {
      // keep one byte more than docker shows, so truncation can be seen
      if (size > MAX_OUTPUT_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    source.on('end', resolve);
    source.on('close', resolve);
    source.on('error', () => resolve());
  }))).then(() => undefined);
  return { done, text: () => truncateOutput(chunks), stop: () => { for (const source of sources) source.destroy(); } };
}
