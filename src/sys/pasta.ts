// pasta (Debian package passt): user-mode networking for a network namespace of an
// unprivileged user. It runs in the host's network namespace, opens a tap device in the
// container's, and relays traffic through ordinary sockets; published ports are sockets it
// binds on the host, so a client's source address is kept (loopback clients appear as
// 127.0.0.1 inside). pasta forks into the background once the namespace is configured,
// which is the readiness signal; its pid is read from the file it writes.
import { readFile } from 'node:fs/promises';
import { BerthError } from '../errors/berth-error.js';
import { runProgram } from './exec.js';

export interface PastaOptions {
  netnsPath: string;
  pidFile: string;
  /** pasta -t / -u specs, e.g. "127.0.0.1/8080:80"; empty forwards nothing */
  tcp: readonly string[];
  udp: readonly string[];
}

export function pastaArgs(options: PastaOptions): string[] {
  const forwards = (flag: string, specs: readonly string[]): string[] =>
    specs.length === 0 ? [flag, 'none'] : specs.flatMap((s) => [flag, s]);
  return [
    '--config-net', '--quiet',
    // the gateway is not the host's loopback, and host loopback ports are not reachable from inside
    '--no-map-gw', '-T', 'none', '-U', 'none',
    ...forwards('-t', options.tcp), ...forwards('-u', options.udp),
    '--netns', options.netnsPath, '--pid', options.pidFile,
  ];
}

/** Starts pasta for a namespace and resolves with its pid once the namespace is configured. */
export async function startPasta(options: PastaOptions): Promise<number> {
  const result = await runProgram('pasta', pastaArgs(options), { allowFailure: true, timeoutMs: 30_000 });
  // pasta logs to syslog too; without one it says so on stderr for every line
  const stderr = result.stderr.split('\n').filter((l) => l.trim() !== '' && !/^Failed to send \d+ bytes to syslog/.test(l)).join('; ');
  if (result.code !== 0) {
    throw new BerthError('unavailable', 'PASTA_FAILED', `pasta could not set up the network of ${options.netnsPath}: ${stderr || `exit ${result.code}`}`,
      { hint: /tun/i.test(stderr) ? '/dev/net/tun must be readable and writable by the user (mode 0666, as udev sets it on Debian)' : 'is the host port free?' });
  }
  const pid = Number((await readFile(options.pidFile, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new BerthError('internal', 'PASTA_NO_PID', `pasta wrote no pid to ${options.pidFile}`);
  return pid;
}

/** Stops a pasta started by startPasta, if the pid still names a pasta process. */
export async function stopPasta(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  // Debian runs the AVX2 build when the CPU has it: comm is then passt.avx2
  if (!/^(pasta|passt)(\.avx2)?$/.test(comm)) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
