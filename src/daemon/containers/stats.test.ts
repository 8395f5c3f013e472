import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupStats } from '../../runtime/cgroups/manager.js';
import { blkioJson, parseNetDev, statsJson } from './stats.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0:  123456     321    1    2    0     0          0         0     6543      45    3    4    0     0       0          0
garbage line
  eth1: 7 8
`;

test('net/dev: per interface rx/tx in docker names, loopback and broken lines left out', () => {
  assert.deepEqual(parseNetDev(NET_DEV), {
    eth0: { rx_bytes: 123456, rx_packets: 321, rx_errors: 1, rx_dropped: 2, tx_bytes: 6543, tx_packets: 45, tx_errors: 3, tx_dropped: 4 },
  });
  assert.deepEqual(parseNetDev(''), {});
});

test('blkio: read and write entries per device for bytes and ops; null lists without devices', () => {
  const json = blkioJson([{ major: 254, minor: 0, readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 }]);
  assert.deepEqual(json.io_service_bytes_recursive, [
    { major: 254, minor: 0, op: 'read', value: 4096 }, { major: 254, minor: 0, op: 'write', value: 8192 }]);
  assert.deepEqual(json.io_serviced_recursive, [
    { major: 254, minor: 0, op: 'read', value: 1 }, { major: 254, minor: 0, op: 'write', value: 2 }]);
  assert.equal(blkioJson([]).io_service_bytes_recursive, null);
});

test('statsJson carries networks and blkio next to memory and cpu', () => {
  const stats: CgroupStats = {
    memory: { usage: 10, limit: 100, maxUsage: null, failCount: 0, stat: {} },
    cpu: { usageNanos: 5, userNanos: 3, systemNanos: 2, perCpuNanos: [], throttling: { periods: 0, throttledPeriods: 0, throttledNanos: 0 } },
    pids: { current: 1, limit: null },
    io: [{ major: 8, minor: 0, readBytes: 1, writeBytes: 2, readOps: 3, writeOps: 4 }],
  };
  const networks = parseNetDev(NET_DEV);
  const { json } = statsJson('id', '/name', stats, 1000, undefined, networks);
  assert.deepEqual(json.networks, networks);
  assert.equal((json.blkio_stats as { io_service_bytes_recursive: unknown[] }).io_service_bytes_recursive.length, 2);
  assert.equal(statsJson('id', '/name', undefined, 1000, undefined).json.networks, undefined);
});
