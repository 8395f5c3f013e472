// The container-state gaps next to health: State.OOMKilled and the `oom` event when the
// kernel's OOM killer strikes inside a -m limit, and `docker stats` NET I/O and BLOCK I/O
// after real traffic and writes; through a private berthd and the docker CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from '../api/harness.js';
import { apiGet, inspectState } from './support.js';

const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

test('a process killed by the OOM killer sets State.OOMKilled and emits oom before die', { skip }, async () => {
  const name = `oom-${daemon.token}`;
  const since = Math.floor(Date.now() / 1000) - 1;
  // tail keeps the whole 64 MiB line in memory: far above the 8 MiB limit
  const run = await docker(daemon, ['run', '--name', name, '-m', '8m', 'busybox', 'sh', '-c', 'head -c 64m /dev/zero | tail']);
  assert.equal(run.code, 137, run.stderr);
  assert.equal(await inspectState(daemon, name, '{{.State.OOMKilled}}'), 'true');
  assert.equal(await inspectState(daemon, name, '{{.State.ExitCode}}'), '137');
  const events = (await dockerOk(daemon, ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)),
    '--filter', `container=${name}`, '--format', '{{.Action}}'])).split('\n');
  assert.ok(events.includes('oom'), events.join(','));
  assert.ok(events.indexOf('oom') < events.indexOf('die'), events.join(','));
  // the next run starts with a fresh counter: a clean exit is not OOMKilled
  await dockerOk(daemon, ['rm', name]);
  const fine = `fine-${daemon.token}`;
  await dockerOk(daemon, ['run', '--name', fine, '-m', '8m', 'busybox', 'sh', '-c', 'head -c 1m /dev/zero | tail >/dev/null']);
  assert.equal(await inspectState(daemon, fine, '{{.State.OOMKilled}}'), 'false');
  await dockerOk(daemon, ['rm', fine]);
});

/** "1.2kB / 3.4MB" -> [1200, 3400000] (docker's decimal units) */
function pair(text: string): [number, number] {
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
  const sides = text.split(' / ').map((side) => {
    const m = /^([\d.]+)\s*([kMGT]?B)$/.exec(side.trim());
    if (!m) throw new Error(`cannot read "${side}" of "${text}"`);
    return Number(m[1]) * (units[m[2] ?? 'B'] ?? 1);
  });
  return [sides[0] ?? 0, sides[1] ?? 0];
}

test('docker stats shows NET I/O after traffic and BLOCK I/O after synced writes', { skip }, async () => {
  const name = `stats-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', name, 'busybox', 'sleep', '120']);
  const gateway = await inspectState(daemon, name, '{{.NetworkSettings.Gateway}}');
  assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
  // traffic both ways (ARP at least, even where a host firewall drops the echo replies)
  await dockerOk(daemon, ['exec', name, 'sh', '-c', `ping -c 3 -i 0.2 -W 1 ${gateway}; true`]);
  await dockerOk(daemon, ['exec', name, 'dd', 'if=/dev/zero', 'of=/tmp/blob', 'bs=1M', 'count=8', 'conv=fsync']);
  const line = await dockerOk(daemon, ['stats', '--no-stream', '--format', '{{.NetIO}}|{{.BlockIO}}', name]);
  const [net = '', block = ''] = line.split('|');
  const [rx, tx] = pair(net);
  assert.ok(rx > 0 && tx > 0, `NET I/O ${net}`);
  const [, written] = pair(block);
  assert.ok(written >= 8e6, `BLOCK I/O ${block}`);
  // the JSON docker's clients read: networks per interface without lo, blkio per device
  const json = JSON.parse(await apiGet(daemon, `/v1.45/containers/${name}/stats?stream=false&one-shot=true`)) as {
    networks?: Record<string, { rx_bytes: number; tx_packets: number }>;
    blkio_stats: { io_service_bytes_recursive: Array<{ op: string; value: number }> | null };
  };
  assert.deepEqual(Object.keys(json.networks ?? {}), ['eth0']);
  assert.ok((json.networks?.['eth0']?.rx_bytes ?? 0) > 0);
  assert.ok((json.blkio_stats.io_service_bytes_recursive ?? []).some((e) => e.op === 'write' && e.value >= 8e6));
  await dockerOk(daemon, ['rm', '-f', name]);
});
