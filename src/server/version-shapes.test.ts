import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shapeContainerInspect, shapeDiskUsage, shapeImageInspect, shapeInfo } from './version-shapes.js';

const container = {
  Id: 'c1', Config: { Cmd: ['sh'], OnBuild: null },
  NetworkSettings: { Bridge: '', IPAddress: '172.17.0.2', Gateway: '172.17.0.1', MacAddress: 'aa', Ports: {}, Networks: { bridge: { IPAddress: '172.17.0.2' } } },
};

test('container inspect: the legacy NetworkSettings fields and an empty OnBuild go from 1.52 on', () => {
  assert.deepEqual(shapeContainerInspect(container, '1.41'), container);
  assert.deepEqual(shapeContainerInspect(container, '1.51'), container);
  const newest = shapeContainerInspect(container, '1.55') as typeof container;
  assert.deepEqual(Object.keys(newest.NetworkSettings).sort(), ['Networks', 'Ports']);
  assert.equal(newest.NetworkSettings.Networks.bridge.IPAddress, '172.17.0.2');
  assert.deepEqual(newest.Config, { Cmd: ['sh'] });
  assert.equal(container.NetworkSettings.IPAddress, '172.17.0.2', 'the input is not changed');
});

const image = { Id: 'sha256:1', Parent: '', Comment: '', Author: '', DockerVersion: '', Size: 10, VirtualSize: 10,
  Container: '', ContainerConfig: {}, Config: { Cmd: ['sh'], Env: [], Hostname: '' } };

test('image inspect: VirtualSize until 1.43, Container* until 1.44, container-only Config fields until 1.49, empties from 1.52 omitted', () => {
  const old = shapeImageInspect({ ...image, VirtualSize: undefined }, '1.41') as Record<string, unknown> & { Config: Record<string, unknown> };
  assert.equal(old['VirtualSize'], 10);
  assert.equal(old['Container'], '');
  assert.deepEqual(old.Config['Cmd'], ['sh']);
  assert.equal(old.Config['Tty'], false, 'dockerd 1.41 shows every Config field');
  assert.equal(old.Config['Labels'], null);
  const v44 = shapeImageInspect(image, '1.44') as Record<string, unknown>;
  assert.equal('VirtualSize' in v44, false);
  assert.equal('ContainerConfig' in v44, true);
  const v45 = shapeImageInspect(image, '1.45') as Record<string, unknown>;
  assert.equal('ContainerConfig' in v45, false);
  const v50 = shapeImageInspect(image, '1.50') as { Config: Record<string, unknown>; Comment?: string };
  assert.equal('Hostname' in v50.Config, false);
  assert.deepEqual(v50.Config['Env'], []);
  assert.equal(v50.Comment, '');
  const v55 = shapeImageInspect(image, '1.55') as Record<string, unknown>;
  assert.deepEqual(v55['Config'], { Cmd: ['sh'] });
  for (const key of ['Parent', 'Comment', 'Author', 'DockerVersion']) assert.equal(key in v55, false, key);
});

test('system df: VirtualSize until 1.43, per-type summaries from 1.52, the legacy lists gone from 1.53 (and with verbose)', () => {
  const df = {
    LayersSize: 1000,
    Images: [{ Id: 'a', Size: 600, SharedSize: 0, VirtualSize: 600, Containers: 1 }, { Id: 'b', Size: 300, SharedSize: 0, VirtualSize: 300, Containers: 0 }],
    Containers: [{ Id: 'c1', State: 'running', SizeRw: 10 }, { Id: 'c2', State: 'exited', SizeRw: 30 }],
    Volumes: [{ Name: 'v', UsageData: { Size: 50, RefCount: 0 } }],
    BuildCache: [{ ID: 'x', Size: 7, InUse: false }],
  };
  const old = shapeDiskUsage(df, '1.41', false) as { Images: Array<Record<string, unknown>> };
  assert.equal(old.Images[0]?.['VirtualSize'], 600);
  const v51 = shapeDiskUsage(df, '1.51', false);
  assert.equal('ImageUsage' in v51, false);
  assert.equal('VirtualSize' in ((v51['Images'] as Array<Record<string, unknown>>)[0] ?? {}), false);
  const v52 = shapeDiskUsage(df, '1.52', false);
  assert.deepEqual(v52['ImageUsage'], { ActiveCount: 1, TotalCount: 2, Reclaimable: 400, TotalSize: 1000 });
  assert.deepEqual(v52['ContainerUsage'], { ActiveCount: 1, TotalCount: 2, Reclaimable: 30, TotalSize: 40 });
  assert.deepEqual(v52['VolumeUsage'], { ActiveCount: 0, TotalCount: 1, Reclaimable: 50, TotalSize: 50 });
  assert.deepEqual(v52['BuildCacheUsage'], { ActiveCount: 0, TotalCount: 1, Reclaimable: 7, TotalSize: 7 });
  assert.equal(v52['LayersSize'], 1000, 'both shapes in 1.52');
  const verbose = shapeDiskUsage(df, '1.52', true);
  assert.equal('Images' in verbose, false);
  assert.equal((verbose['ContainerUsage'] as { Items: unknown[] }).Items.length, 2);
  const v55 = shapeDiskUsage(df, '1.55', false);
  assert.deepEqual(Object.keys(v55).sort(), ['BuildCacheUsage', 'ContainerUsage', 'ImageUsage', 'VolumeUsage']);
});

test('info: BridgeNf* (false) until 1.49, the nondistributable registry lists until 1.48', () => {
  const info = { ID: 'x', RegistryConfig: { Mirrors: [], AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null } };
  const old = shapeInfo(info, '1.41');
  assert.equal(old['BridgeNfIptables'], false);
  assert.ok('AllowNondistributableArtifactsCIDRs' in (old['RegistryConfig'] as object));
  const v49 = shapeInfo(info, '1.49');
  assert.deepEqual(v49['RegistryConfig'], { Mirrors: [] });
  assert.equal(v49['BridgeNfIp6tables'], false);
  assert.equal('BridgeNfIptables' in shapeInfo(info, '1.55'), false);
});
