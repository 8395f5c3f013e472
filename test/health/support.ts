// Helpers of the health tests: State.Health through `docker inspect`, and polling.
import { request } from 'node:http';
import { docker, dockerOk, type Berthd } from '../api/harness.js';

export interface HealthJson {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> | null;
}

export async function inspectState(daemon: Berthd, name: string, format: string): Promise<string> {
  return await dockerOk(daemon, ['inspect', '--format', format, name]);
}

/** State.Health of the container, undefined when it has none (or is gone) */
export async function healthOf(daemon: Berthd, name: string): Promise<HealthJson | undefined> {
  const result = await docker(daemon, ['inspect', '--format', '{{json .State.Health}}', name]);
  if (result.code !== 0 || result.stdout.trim() === 'null') return undefined;
  return JSON.parse(result.stdout) as HealthJson;
}

/** Poll `read` until `done` holds; fails with the last value after timeoutMs. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    value = await read();
  }
  return value;
}

/** GET on the daemon's socket; the body of a 200 answer */
export async function apiGet(daemon: Berthd, path: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: daemon.socket, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${path}: ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
