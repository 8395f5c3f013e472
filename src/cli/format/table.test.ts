import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tabwrite } from './table.js';
import { renderList, type ListSpec } from './render.js';
import { displayPorts, ellipsis } from './containers.js';

test('tabwrite pads tab-terminated cells to the column width, min 10, padding 3', () => {
  assert.equal(tabwrite('A\tBB\tC\nlonger-cell\tx\ty\n'), 'A             BB        C\nlonger-cell   x         y\n');
});

const spec: ListSpec = { defaultFormat: 'table {{.ID}}\t{{.Name}}', headers: { ID: 'CONTAINER ID', Name: 'NAME' }, typeName: '*t' };

test('renderList: default table, custom table, plain template, json, quiet', () => {
  const rows = [{ ID: 'abc', Name: 'n1' }];
  assert.equal(renderList(rows, spec, undefined), 'CONTAINER ID   NAME\nabc            n1\n');
  assert.equal(renderList(rows, spec, 'table {{.Name}}'), 'NAME\nn1\n');
  assert.equal(renderList(rows, spec, '{{.Name}}\\t{{.ID}}'), 'n1\tabc\n');
  assert.equal(renderList(rows, spec, 'json'), '{"ID":"abc","Name":"n1"}\n');
  assert.equal(renderList(rows, spec, undefined, true), 'abc\n');
  assert.equal(renderList([], spec, undefined), 'CONTAINER ID   NAME\n');
  assert.throws(() => renderList([], spec, '{{.Nope}}'), /can't evaluate field Nope/);
});

test('ports fold into ranges as docker shows them', () => {
  const ports = [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 81, PublicPort: 8081, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
  ];
  assert.equal(displayPorts(ports), '0.0.0.0:8080-8081->80-81/tcp, [::]:8080->80/tcp, 443/tcp');
  assert.equal(ellipsis('sh -c "sleep 1000 && echo done"', 20), 'sh -c "sleep 1000 &…');
});
