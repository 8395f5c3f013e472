// systemd socket activation (sd_listen_fds): with -H fd:// berthd serves on the listening
// sockets systemd passed as fds 3.. (LISTEN_FDS, for this LISTEN_PID); -H fd://N picks one.
import { invalidArgument } from '../errors/berth-error.js';

const SD_LISTEN_FDS_START = 3;

export function activatedFds(spec: string, env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number[] {
  const listenPid = Number(env['LISTEN_PID'] ?? '');
  const count = Number(env['LISTEN_FDS'] ?? '');
  if (listenPid !== pid || !Number.isInteger(count) || count < 1) {
    throw invalidArgument('NO_ACTIVATION', `-H ${spec}: no sockets were passed by systemd (LISTEN_FDS/LISTEN_PID not set for pid ${pid})`,
      { hint: 'start berthd through berthd.socket, or use -H unix:///path' });
  }
  const all = Array.from({ length: count }, (_, i) => SD_LISTEN_FDS_START + i);
  const wanted = spec.slice('fd://'.length);
  if (wanted === '') return all;
  const fd = Number(wanted);
  if (!Number.isInteger(fd) || !all.includes(fd)) {
    throw invalidArgument('BAD_ACTIVATION_FD', `-H ${spec}: fd ${wanted} is not one of the activated sockets ${all.join(', ')}`);
  }
  return [fd];
}
