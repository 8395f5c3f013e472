// The config.json berthd writes for a `docker run`, diffed against the one dockerd hands runc for
// the same flags (captured by a runtime wrapper given to a private dockerd with --add-runtime).
// Every difference must be one docs/oci-config-vs-dockerd.md explains; a new one fails, named.
// Runs only where a dockerd binary is installed (not on the CI machine, which has the client only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from './harness.js';

const run = promisify(execFile);
const hasDockerd = ((): boolean => { try { execFileSync('sh', ['-c', 'command -v dockerd && command -v runc'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const skip = requires('root', 'docker', 'overlay') || (hasDockerd ? false : 'needs dockerd and runc (Debian docker.io) to compare with');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const FLAG_SETS: Record<string, string[]> = {
  plain: [],
  init: ['--init'],
  limits: ['-m', '64m', '--memory-swap', '128m', '--memory-reservation', '16m', '--cpu-quota', '20000', '--cpu-period', '50000',
    '--cpuset-cpus', '0', '--cpu-shares', '256', '--pids-limit', '20', '--ulimit', 'nproc=64:128', '--oom-score-adj', '50'],
  security: ['--cap-drop', 'ALL', '--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--tmpfs', '/data:size=1m,mode=700',
    '--shm-size', '1g', '--sysctl', 'kernel.msgmax=65536', '--hostname', 'h1', '--domainname', 'example.org'],
  readonlyUser: ['-m', '64m', '--cpus', '0.5', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--read-only', '--tmpfs', '/run',
    '--sysctl', 'net.ipv4.ip_forward=1', '--group-add', '10', '--ulimit', 'nofile=1024:2048', '--security-opt', 'no-new-privileges',
    '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000'],
  devices: ['--device', '/dev/null:/dev/mynull:rw', '--device-cgroup-rule', 'c 10:229 rwm'],
};

/** Differences the page explains (docs/oci-config-vs-dockerd.md), as the diff below names them. */
const EXPLAINED: RegExp[] = [
  /^differs \.ociVersion$/, /^only-dockerd \.hooks$/, /^differs \.linux\.cgroupsPath$/, /^differs \.root\.path$/,
  /^order \.linux\.namespaces$/, /^only-dockerd \.linux\.resources\.(blockIO|cpu|memory)$/,
  /^only-dockerd \.linux\.resources\.(blockIO\.weight|cpu\.shares|memory\.disableOOMKiller)$/,
  /^differs \.linux\.resources\.devices$/, /^list \.linux\.maskedPaths \+\/(proc\/interrupts|sys\/devices\/virtual\/powercap)$/,
  /^differs \.linux\.seccomp$/, /^only-berth \.linux\.seccomp$/,
  /^only-dockerd \.linux\.sysctl\.kernel\.domainname$/, /^only-berth \.domainname$/, /^only-dockerd \.linux\.sysctl$/,
  /^mount \/dev\/shm size$/, /^mount \S+ rprivate$/, /^mount \/(etc\/(hosts|hostname|resolv\.conf)) source$/, /^mount \/sbin\/docker-init source$/,
  /^list \.process\.env \+HOME=/, /^only-berth \.process\.capabilities\.(effective|permitted)$/,
  /^only-berth \.process\.(terminal|noNewPrivileges)$/, /^only-berth \.root\.readonly$/,
  /^differs \.linux\.devices\[\d+\]\.(uid|gid)$/,
];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function mountDiffs(dockerd: Json[], berth: Json[]): string[] {
  const byDest = (list: Json[]): Map<string, Json> => new Map(list.map((m) => [String(m['destination']), m]));
  const d = byDest(dockerd);
  const b = byDest(berth);
  const out: string[] = [];
  for (const dest of new Set([...d.keys(), ...b.keys()])) {
    const x = d.get(dest);
    const y = b.get(dest);
    if (!x || !y) { out.push(`mount ${dest} only-${x ? 'dockerd' : 'berth'}`); continue; }
    if (x['source'] !== y['source'] && x['type'] === 'bind') out.push(`mount ${dest} source`);
    if (x['type'] !== y['type']) out.push(`mount ${dest} type`);
    const opts = (m: Json): string[] => (Array.isArray(m['options']) ? m['options'].map(String) : []);
    const norm = (o: string): string => o.replace(/^size=(\d+)$/, (_s, n: string) => `size=${Number(n) / 1024}k`);
    const xo = new Set(opts(x).map(norm));
    const yo = new Set(opts(y).map(norm));
    for (const o of new Set([...xo, ...yo])) {
      if (xo.has(o) !== yo.has(o)) out.push(o === 'rprivate' ? `mount ${dest} rprivate` : o.startsWith('size=') ? `mount ${dest} size` : `mount ${dest} option ${o}`);
    }
  }
  return [...new Set(out)];
}

/** every difference as a short key: only-dockerd/only-berth/differs PATH, list PATH +/-item, mount DEST what */
function diff(dockerd: unknown, berth: unknown, at = ''): string[] {
  if (at === '.mounts' && Array.isArray(dockerd) && Array.isArray(berth)) return mountDiffs(dockerd.filter(isObject), berth.filter(isObject));
  if (at === '.linux.seccomp' || at === '.linux.resources.devices') return JSON.stringify(dockerd) === JSON.stringify(berth) ? [] : [`differs ${at}`];
  if (at === '.linux.namespaces' && Array.isArray(dockerd) && Array.isArray(berth)) {
    const key = (l: unknown[]): string => l.map((n) => JSON.stringify(n)).sort().join();
    if (key(dockerd) !== key(berth)) return [`differs ${at}`];
    return JSON.stringify(dockerd) === JSON.stringify(berth) ? [] : [`order ${at}`];
  }
  if (isObject(dockerd) && isObject(berth)) {
    const out: string[] = [];
    for (const key of new Set([...Object.keys(dockerd), ...Object.keys(berth)])) {
      if (!(key in berth)) out.push(`only-dockerd ${at}.${key}`);
      else if (!(key in dockerd)) out.push(`only-berth ${at}.${key}`);
      else out.push(...diff(dockerd[key], berth[key], `${at}.${key}`));
    }
    return out;
  }
  if (Array.isArray(dockerd) && Array.isArray(berth) && [...dockerd, ...berth].every((v) => typeof v === 'string')) {
    const d = new Set(dockerd as string[]);
    const b = new Set(berth as string[]);
    return [...[...b].filter((v) => !d.has(v)).map((v) => `list ${at} +${v}`), ...[...d].filter((v) => !b.has(v)).map((v) => `list ${at} -${v}`)];
  }
  if (Array.isArray(dockerd) && Array.isArray(berth) && dockerd.length === berth.length) return dockerd.flatMap((v, i) => diff(v, berth[i], `${at}[${i}]`));
  return JSON.stringify(dockerd) === JSON.stringify(berth) ? [] : [`differs ${at}`];
}

/** the container-specific values both specs carry (names, ids, hostnames) taken out before the diff */
function normalize(spec: Json): Json {
  const process = isObject(spec['process']) ? spec['process'] : {};
  const env = Array.isArray(process['env']) ? process['env'].map(String).filter((e) => !e.startsWith('HOSTNAME=')) : [];
  const { hostname: _hostname, ...rest } = spec;
  return { ...rest, process: { ...process, env } };
}

interface Dockerd { process: ChildProcess; socket: string; env: NodeJS.ProcessEnv }

async function startDockerd(dir: string): Promise<Dockerd> {
  const wrapper = path.join(dir, 'capture-runc');
  await writeFile(wrapper, `#!/bin/sh\nprev=""\nfor a in "$@"; do\n  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then cp "$a/config.json" "${dir}/captured-$(basename "$a").json"; fi\n  prev="$a"\ndone\nexec runc "$@"\n`);
  await chmod(wrapper, 0o755);
  const socket = path.join(dir, 'docker.sock');
  const child = spawn('dockerd', ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '-H', `unix://${socket}`,
    '--pidfile', path.join(dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip6tables=false', '--add-runtime', `capture=${wrapper}`], { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'config') };
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    if (existsSync(socket) && await run('docker', ['version'], { env }).then(() => true, () => false)) return { process: child, socket, env };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('dockerd did not start');
}

describe('config.json next to dockerd\'s', { skip, timeout: 180_000 }, () => {
  let dockerd: Dockerd | undefined;
  let dir = '';

  before(async () => {
    if (skip) return;
    dir = path.join(daemon.dir, 'dockerd');
    await mkdir(dir, { recursive: true });
    dockerd = await startDockerd(dir);
    await run('docker', ['import', path.join(daemon.dir, 'busybox.tar'), 'busybox:latest'], { env: dockerd.env });
  });

  after(async () => {
    if (!dockerd) return;
    const ids = (await run('docker', ['ps', '-aq'], { env: dockerd.env })).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids], { env: dockerd.env }).catch(() => undefined);
    const exited = new Promise((resolve) => dockerd?.process.once('exit', resolve));
    dockerd.process.kill('SIGTERM');
    await exited;
    await run('umount', ['-R', '-l', dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, flags] of Object.entries(FLAG_SETS)) {
    test(`${name}: every difference is an explained one`, async () => {
      assert.ok(dockerd);
      const args = ['run', '-d', '--network', 'none', '--name', `oci-${name}-${daemon.token}`, ...flags, 'busybox', 'sleep', '60'];
      const theirs = await run('docker', ['run', '--runtime', 'capture', ...args.slice(1)], { env: dockerd.env }).then((r) => r.stdout.trim());
      const ours = await dockerOk(daemon, args);
      const dockerdSpec = JSON.parse(await readFile(path.join(dir, `captured-${theirs}.json`), 'utf8')) as Json;
      const berthSpec = JSON.parse(await readFile(path.join(daemon.execRoot, 'containers', ours, 'config.json'), 'utf8')) as Json;
      const unexplained = diff(normalize(dockerdSpec), normalize(berthSpec)).filter((d) => !EXPLAINED.some((re) => re.test(d)));
      assert.deepEqual(unexplained, [], `differences docs/oci-config-vs-dockerd.md does not explain (${name})`);
      await run('docker', ['rm', '-f', theirs], { env: dockerd.env });
      await docker(daemon, ['rm', '-f', ours]);
    });
  }
});
