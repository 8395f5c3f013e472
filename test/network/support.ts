// Helpers for network integration tests: a service on private paths with a unique instance
// token, processes inside a netns, a "remote" client host joined by a veth pair, leak checks.
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { NetworkEvent, NetworksServiceOptions } from '../../src/daemon/networks/types.js';

export interface TestService {
  service: NetworksService;
  instance: string;
  dataRoot: string;
  execRoot: string;
  events: NetworkEvent[];
  /** tear down and assert nothing of the instance is left on the host */
  finish(): Promise<void>;
}

export function token(): string {
  return randomBytes(2).toString('hex');
}

export async function startService(options: Partial<NetworksServiceOptions> = {}): Promise<TestService> {
  const instance = `t${token()}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-net-${instance}-`));
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const events: NetworkEvent[] = [];
  const service = new NetworksService({ dataRoot, execRoot, instance, onEvent: (e) => events.push(e), ...options });
  await service.start([]);
  return {
    service, instance, dataRoot, execRoot, events,
    finish: async () => {
      await service.teardown();
      await service.close();
      await assertNoLeaks(instance, execRoot);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function assertNoLeaks(instance: string, execRoot: string): Promise<void> {
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  assert.ok(!links.includes(`bb${instance}`), `leaked bridge of ${instance}:\n${links}`);
  assert.ok(!links.includes(`bv${instance}`), `leaked veth of ${instance}:\n${links}`);
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  assert.ok(!tables.includes(`berth-${instance}`), `leaked nft table berth-${instance}`);
  const netns = await readdir(path.join(execRoot, 'netns')).catch(() => []);
  assert.deepEqual(netns, [], 'leaked netns files');
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(execRoot), 'leaked netns mount');
}

/** A long-running process inside a netns (killed by the caller). */
export function spawnInNetns(netns: string, argv: string[]): ChildProcess {
  const [file, ...args] = argv;
  return spawn('nsenter', [`--net=${netns}`, file ?? 'true', ...args], { stdio: 'ignore' });
}

export async function runInNetns(netns: string, argv: string[], timeoutMs = 5000): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=${netns}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

/** Node one-liner run in a netns: connect to host:port over tcp, send text, print the reply. */
export function tcpEchoClientArgv(host: string, port: number, text: string, timeoutMs = 3000): string[] {
  const script = `const s=require('net').connect(${port},'${host}',()=>s.write('${text}'));`
    + `s.setTimeout(${timeoutMs},()=>{process.exit(3)});s.on('data',d=>{process.stdout.write(d);s.destroy()});s.on('error',e=>{console.error(e.message);process.exit(2)})`;
  return [process.execPath, '-e', script];
}

export function udpEchoClientArgv(host: string, port: number, text: string): string[] {
  const script = `const s=require('dgram').createSocket('udp4');s.on('message',m=>{process.stdout.write(m);process.exit(0)});`
    + `setTimeout(()=>process.exit(3),3000);s.send('${text}',${port},'${host}')`;
  return [process.execPath, '-e', script];
}

/** From the host's own network namespace. */
export async function tcpRoundTrip(host: string, port: number, text: string, timeoutMs = 3000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => socket.write(text));
    socket.setTimeout(timeoutMs, () => { socket.destroy(); reject(new Error(`timeout talking to ${host}:${port}`)); });
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString()); });
    socket.on('error', reject);
  });
}

/** Waits until a TCP port inside a netns accepts (the echo server started). */
export async function waitForListener(netns: string, port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const out = await runInNetns(netns, ['ss', proto === 'tcp' ? '-ltn' : '-lun']);
    if (out.stdout.includes(`:${port} `)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${proto} ${port} in ${netns}`);
}

export interface ClientHost {
  netns: string;
  /** the host's address as the client sees it */
  hostIp: string;
  clientIp: string;
  destroy(): Promise<void>;
}

/** A netns joined to the host by a veth pair on a /30, like a machine on the LAN. */
export async function makeClientHost(instance: string, dir: string, octet: number): Promise<ClientHost> {
  const netns = path.join(dir, `client-${instance}`);
  execFileSync('touch', [netns]);
  execFileSync('unshare', [`--net=${netns}`, 'ip', 'link', 'set', 'lo', 'up']);
  const hostIf = `bc${instance}h`;
  const hostIp = `198.18.${octet}.1`;
  const clientIp = `198.18.${octet}.2`;
  execFileSync('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  execFileSync('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
  execFileSync('ip', ['link', 'set', hostIf, 'up']);
  execFileSync('nsenter', [`--net=${netns}`, 'ip', 'addr', 'add', `${clientIp}/30`, 'dev', 'eth0']);
  execFileSync('nsenter', [`--net=${netns}`, 'ip', 'link', 'set', 'eth0', 'up']);
  execFileSync('nsenter', [`--net=${netns}`, 'ip', 'route', 'add', 'default', 'via', hostIp]);
  return {
    netns, hostIp, clientIp,
    destroy: async () => {
      execFileSync('ip', ['link', 'del', hostIf]);
      execFileSync('umount', [netns]);
      await rm(netns, { force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
