// Helpers of the system tests: the berth CLI against a test berthd, and raw API calls.
import http from 'node:http';
import { berthCommand, execFile, type Result } from '../cli/support/harness.js';
import type { Berthd } from '../api/harness.js';

export async function berth(daemon: Berthd, args: string[], input?: string): Promise<Result> {
  const [file, ...pre] = berthCommand();
  return await execFile(file ?? process.execPath, [...pre, ...args], {
    env: { ...daemon.env, BERTH_HOST: daemon.env['DOCKER_HOST'] }, ...(input === undefined ? {} : { input }), timeoutMs: 120_000,
  });
}

/** berth ... that must succeed; returns stdout */
export async function berthOk(daemon: Berthd, args: string[], input?: string): Promise<string> {
  const result = await berth(daemon, args, input);
  if (result.code !== 0) throw new Error(`berth ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export async function api(daemon: Berthd, method: string, path: string): Promise<{ status: number; body: unknown }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ socketPath: daemon.socket, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
