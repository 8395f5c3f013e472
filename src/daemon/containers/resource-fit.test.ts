import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../errors/berth-error.js';
import { fitResources, updatedResources, withDockerdDefaults, type ResourceSupport } from './resource-fit.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './oci-defaults.js';

/** cgroup v1 on this kind of host: no blkio weight files (no CFQ/BFQ weight), the rest there */
const V1_NO_WEIGHT: ResourceSupport = {
  memoryLimit: true, swapLimit: true, memoryReservation: true, oomKillDisable: true, memorySwappiness: true, kernelMemory: true,
  cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: false, blkioWeightDevice: false, blkioReadBps: true,
  blkioWriteBps: true, blkioReadIOps: true, blkioWriteIOps: true, pidsLimit: true, cpus: '0-1', mems: '0',
};

test('limits the kernel cannot apply are dropped with dockerd 20.10\'s warnings, in its order', () => {
  const { resources, warnings } = fitResources({
    BlkioWeight: 300, BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 200 }], KernelMemory: 64 << 20, OomKillDisable: true,
    MemorySwappiness: 50, Memory: 64 << 20, CpuPercent: 50,
  }, V1_NO_WEIGHT);
  assert.deepEqual(warnings, [
    'Specifying a kernel memory limit is deprecated and will be removed in a future release.',
    'linux does not support CPU percent. Percent discarded.',
    'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
  ]);
  assert.equal(resources.BlkioWeight, 0);
  assert.deepEqual(resources.BlkioWeightDevice, []);
  assert.equal(resources.CpuPercent, 0);
  assert.equal(resources.KernelMemory, 64 << 20, 'kept where the kernel has kmem');
  assert.equal(resources.MemorySwappiness, 50);
  assert.equal(resources.OomKillDisable, true);
});

test('cgroup v2 as dockerd sees it: swappiness, the OOM-killer switch and kernel memory go; out-of-range blkio weight is only refused where applied', () => {
  const v2: ResourceSupport = { ...V1_NO_WEIGHT, oomKillDisable: false, memorySwappiness: false, kernelMemory: false, blkioWeight: true, blkioWeightDevice: true };
  const { resources, warnings } = fitResources({ MemorySwappiness: 10, OomKillDisable: true, KernelMemory: 8 << 20 }, v2);
  assert.equal(resources.MemorySwappiness, null);
  assert.equal(resources.OomKillDisable, null);
  assert.equal(resources.KernelMemory, 0);
  assert.ok(warnings.includes('Your kernel does not support OomKillDisable. OomKillDisable discarded.'));
  assert.ok(warnings.includes('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.'));
  assert.throws(() => fitResources({ BlkioWeight: 5 }, v2), /Range of blkio weight is from 10 to 1000/);
  assert.deepEqual(fitResources({ BlkioWeight: 5 }, V1_NO_WEIGHT).resources.BlkioWeight, 0);
});

test('values no kernel takes are refused with dockerd\'s messages', () => {
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ IOMaximumBandwidth: 100 }, /maximum bandwidth/],
    [{ IOMaximumIOps: 100 }, /maximum IOPs/],
    [{ MemorySwap: 100_000_000 }, /always set the Memory limit when using Memoryswap/],
    [{ MemoryReservation: 1 << 20 }, /Minimum memory reservation allowed is 6MB/],
    [{ KernelMemory: 1 << 20 }, /Minimum kernel memory limit allowed is 6MB/],
    [{ CpuPeriod: 500 }, /CPU cfs period can not be less than 1ms/],
    [{ CpuQuota: 500 }, /CPU cfs quota can not be less than 1ms/],
    [{ CpusetCpus: '7' }, /Requested CPUs are not available - requested 7, available: 0-1/],
    [{ CpusetMems: '3' }, /Requested memory nodes are not available - requested 3, available: 0/],
  ];
  for (const [resources, message] of refused) assert.throws(() => fitResources(resources, V1_NO_WEIGHT), message, JSON.stringify(resources));
  assert.doesNotThrow(() => fitResources({ MemorySwap: 100_000_000 }, V1_NO_WEIGHT, true), 'an update may set swap alone');
  assert.deepEqual(fitResources({ OomKillDisable: true }, V1_NO_WEIGHT).warnings,
    ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.']);
  assert.deepEqual(fitResources({ PidsLimit: -1, OomKillDisable: false, CpusetCpus: '0-1' }, V1_NO_WEIGHT).warnings, []);
  assert.deepEqual(fitResources({ BlkioWeight: 300 }, undefined), { resources: { BlkioWeight: 300 }, warnings: [] }, 'no probe: all kept');
});

test('the HostConfig dockerd records for unset values: swap twice the memory, the default shm size, null for "unset"', () => {
  assert.deepEqual(withDockerdDefaults({ Memory: 64 << 20, MemorySwappiness: -1, PidsLimit: 0 }, 64 << 20),
    { Memory: 64 << 20, MemorySwap: 128 << 20, ShmSize: 64 << 20, MemorySwappiness: null, PidsLimit: null,
      MaskedPaths: [...DEFAULT_MASKED_PATHS], ReadonlyPaths: [...DEFAULT_READONLY_PATHS] });
  const privilegedHost: { Privileged: boolean; MaskedPaths?: string[] | null } = { Privileged: true };
  const privileged = withDockerdDefaults(privilegedHost, 64 << 20);
  assert.equal(privileged.MaskedPaths, undefined, 'a privileged container masks nothing');
  assert.deepEqual(withDockerdDefaults({ MaskedPaths: [] }, 1).MaskedPaths, [], 'systempaths=unconfined stays');
  assert.deepEqual(withDockerdDefaults({ Memory: 64 << 20, MemorySwap: -1, ShmSize: 1 << 20, MemorySwappiness: 5, PidsLimit: 9, Privileged: true }, 64 << 20),
    { Memory: 64 << 20, MemorySwap: -1, ShmSize: 1 << 20, MemorySwappiness: 5, PidsLimit: 9, Privileged: true }, 'what was asked for stays');
});

test('update: only fields given a value change; memory above the recorded swap is refused; memory alone keeps the swap limit', () => {
  const current = { Id: 'c1', HostConfig: { Memory: 64 << 20, MemorySwap: 128 << 20, CpuShares: 256 } };
  const { host, applied } = updatedResources(current, { Memory: 100 << 20, MemorySwap: 0, CpuShares: 0, CpusetCpus: '' }, V1_NO_WEIGHT);
  assert.deepEqual(host, { Memory: 100 << 20, MemorySwap: 128 << 20, CpuShares: 256 }, 'the CLI\'s zeros leave the record alone');
  assert.equal(applied.MemorySwap, 128 << 20, 'the cgroup keeps the recorded swap limit');
  assert.throws(() => updatedResources(current, { Memory: 256 << 20 }, V1_NO_WEIGHT),
    (err: unknown) => err instanceof Error && /Cannot update container c1: Memory limit should be smaller than already set memoryswap limit/.test(err.message)
      && isBerthError(err, 'conflict'));
  assert.equal(updatedResources(current, { Memory: 256 << 20, MemorySwap: -1 }, V1_NO_WEIGHT).host.MemorySwap, -1);
  const dropped = updatedResources(current, { BlkioWeight: 300 }, V1_NO_WEIGHT);
  assert.equal(dropped.host.BlkioWeight, undefined);
  assert.equal(dropped.warnings.length, 1);
});
