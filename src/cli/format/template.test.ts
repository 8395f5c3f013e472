import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESCAPES_HTML, goJson, parseTemplate } from './template.js';

const run = (src: string, data: unknown, type?: string): string => parseTemplate(src).execute(data, type);

test('fields, nested fields, dot and $', () => {
  const data = { ID: 'abc', State: { Status: 'running' }, List: ['a', 'b'] };
  assert.equal(run('{{.ID}} {{.State.Status}}', data), 'abc running');
  assert.equal(run('{{.List}}', data), '[a b]');
  assert.equal(run('{{with .State}}{{.Status}}/{{$.ID}}{{end}}', data), 'running/abc');
  assert.equal(run('{{.Missing.Deep}}', { Missing: null }), '<no value>');
});

test('docker functions: json, join, split, upper, lower, title, truncate, pad', () => {
  const data = { Cmd: ['sh', '-c', '<x>'], Name: 'hello world' };
  assert.equal(run('{{json .Cmd}}', data), '["sh","-c","<x>"]');
  assert.equal(run('{{join .Cmd ","}}', data), 'sh,-c,<x>');
  assert.equal(run('{{split .Name " "}}', data), '[hello world]');
  assert.equal(run('{{upper .Name}} {{lower "ABC"}} {{title .Name}}', data), 'HELLO WORLD abc Hello World');
  assert.equal(run('{{truncate .Name 5}}|{{pad .Name 1 2}}|', data), 'hello| hello world  |');
  assert.equal(run('{{.Name | upper}}', data), 'HELLO WORLD');
  assert.equal(run('{{len .Cmd}} {{index .Cmd 1}} {{printf "%s=%d" "n" 3}}', data), '3 -c n=3');
});

test('if/else/range, comparisons, trim markers', () => {
  const data = { N: 2, Items: ['x', 'y'], Empty: [], M: { b: 2, a: 1 } };
  assert.equal(run('{{if eq .N 2}}two{{else}}other{{end}}', data), 'two');
  assert.equal(run('{{if gt .N 5}}big{{else}}small{{end}}', data), 'small');
  assert.equal(run('{{range .Items}}[{{.}}]{{end}}', data), '[x][y]');
  assert.equal(run('{{range .Empty}}x{{else}}none{{end}}', data), 'none');
  assert.equal(run('{{range .M}}{{.}}{{end}}', data), '12');
  assert.equal(run('a  {{- .N -}}  b', data), 'a2b');
  assert.equal(run('{{if and .N (not .Empty)}}yes{{end}}', data), 'yes');
});

test('parse errors name the problem as Go does', () => {
  assert.throws(() => parseTemplate('{{.Foo'), /failed to parse template: template: :1: unclosed action/);
  assert.throws(() => parseTemplate('{{nosuchfunc .X}}'), /function "nosuchfunc" not defined/);
  assert.throws(() => parseTemplate('{{if .X}}open'), /unexpected EOF/);
  assert.throws(() => parseTemplate('{{end}}'), /unexpected \{\{end\}\}/);
});

test('unknown fields of a formatter context fail at execution with the type name', () => {
  assert.throws(() => run('{{.Foo}}', { ID: 'x' }, '*formatter.ContainerContext'),
    /failed to execute template: template: :1:2: executing "" at <\.Foo>: can't evaluate field Foo in type \*formatter\.ContainerContext/);
});

test('methods with arguments, as .Label "name"', () => {
  const row = { Label: (name: unknown) => (name === 'a' ? 'va' : '') };
  assert.equal(run('{{.Label "a"}}-{{.Label "b"}}', row), 'va-');
});

test('goJson escapes HTML characters only for formatter contexts, as docker does', () => {
  assert.equal(goJson({ a: '<&>' }), '{"a":"<&>"}');
  assert.equal(goJson(Object.defineProperty({ a: '<&>' }, ESCAPES_HTML, { value: true })), '{"a":"\\u003c\\u0026\\u003e"}');
  assert.equal(goJson(undefined), 'null');
});
