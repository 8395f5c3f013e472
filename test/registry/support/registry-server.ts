// Debian's docker-registry (distribution 2.8) on a random loopback port, configured by a
// file written into a private temp dir: anonymous, htpasswd (bcrypt) or token auth.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryTls {
  certificate: string;
  key: string;
  /** CAs of client certificates; when given the registry requires one */
  clientCas?: string[];
}

export interface RegistryListen {
  /** address to listen on (default 127.0.0.1) */
  address?: string;
  tls?: RegistryTls;
}

export interface RunningRegistry {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string;
  port: number;
  dir: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function freePort(address = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, address, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(auth: RegistryAuth = { kind: 'none' }, listen: RegistryListen = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-registry-test-'));
  const address = listen.address ?? '127.0.0.1';
  const port = await freePort(address);
  const lines = [
    'version: 0.1',
    'log:', '  level: warn', '  accesslog:', '    disabled: true',
    'storage:', `  filesystem:`, `    rootdirectory: ${path.join(dir, 'data')}`, '  delete:', '    enabled: true',
    'http:', `  addr: ${address}:${port}`, `  secret: berth-test-${port}`,
  ];
  if (listen.tls !== undefined) {
    lines.push('  tls:', `    certificate: ${listen.tls.certificate}`, `    key: ${listen.tls.key}`);
    if (listen.tls.clientCas !== undefined) lines.push('    clientcas:', ...listen.tls.clientCas.map((ca) => `      - ${ca}`));
  }
  if (auth.kind === 'htpasswd') {
    const htpasswd = Object.entries(auth.users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 5)}`).join('\n');
    await writeFile(path.join(dir, 'htpasswd'), htpasswd + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${path.join(dir, 'htpasswd')}`);
  } else if (auth.kind === 'token') {
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`,
      `    rootcertbundle: ${auth.rootCertBundle}`);
  }
  const config = path.join(dir, 'config.yml');
  await writeFile(config, lines.join('\n') + '\n');
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  try {
    await waitReady(address, port, child, stderr);
  } catch (err) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `${address}:${port}`,
    port,
    dir,
    pid: child.pid,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(address: string, port: number, child: ChildProcess, stderr: Buffer[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${Buffer.concat(stderr).toString()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, address, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`docker-registry did not listen on ${port}: ${Buffer.concat(stderr).toString()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** True when a process with this pid is gone (for leak checks). */
export function processGone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
