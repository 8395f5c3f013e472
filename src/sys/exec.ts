// Running host programs (ip, nft, tar...) with argv arrays, never a shell string.
import { spawn } from 'node:child_process';
import { BerthError } from '../errors/berth-error.js';

export interface RunOptions {
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** do not throw on a non-zero exit; the caller inspects `code` */
  allowFailure?: boolean;
  /** SIGKILL the program after this many milliseconds (it then counts as failed) */
  timeoutMs?: number;
  /** argv[0] as the program sees it (OCI hooks: args[0]) */
  argv0?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runProgram(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return await new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      argv0: options.argv0,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) => {
      reject(new BerthError('unavailable', 'PROGRAM_NOT_RUNNABLE', `cannot run ${file}: ${cause.message}`, { cause }));
    });
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new BerthError('internal', 'PROGRAM_FAILED',
          `${file} ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`));
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => undefined); // a program that does not read its input is fine
    child.stdin.end(options.input ?? '');
  });
}
