import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shapeContainerInspect, shapeImageInspect } from './version-shapes.js';

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
