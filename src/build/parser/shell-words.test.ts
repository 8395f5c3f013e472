import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processWord, processWords, processWordTracked, expandHeredoc, lookupIn } from './shell-words.js';

const env = lookupIn({ FOO: 'foo', EMPTY: '', PORTS: '80 443', PATH: '/usr/bin:/bin', FILE: 'archive.tar.gz' });

test('plain $VAR and ${VAR} expand; unknown variables become empty', () => {
  assert.equal(processWord('$FOO/${FOO}bar', env), 'foo/foobar');
  assert.equal(processWord('a$NOPE-b', env), 'a-b');
  assert.equal(processWord('$', env), '$');
  assert.equal(processWord('cost: $5', env), 'cost: ');
});

test('modifiers with and without colon follow docker', () => {
  assert.equal(processWord('${EMPTY:-def}', env), 'def');
  assert.equal(processWord('${EMPTY-def}', env), '');
  assert.equal(processWord('${NOPE-def}', env), 'def');
  assert.equal(processWord('${FOO:+set}', env), 'set');
  assert.equal(processWord('${EMPTY:+set}', env), '');
  assert.equal(processWord('${EMPTY+set}', env), 'set');
  assert.equal(processWord('${NOPE+set}', env), '');
  assert.equal(processWord('${NOPE:-$FOO}', env), 'foo');
  assert.throws(() => processWord('${NOPE:?must be set}', env), /NOPE: must be set/);
  assert.equal(processWord('${FILE%.*}', env), 'archive.tar');
  assert.equal(processWord('${FILE%%.*}', env), 'archive');
  assert.equal(processWord('${FILE#*.}', env), 'tar.gz');
  assert.equal(processWord('${FILE##*.}', env), 'gz');
});

test('quotes and escapes: single quotes are literal, double quotes expand', () => {
  assert.equal(processWord(`'$FOO'`, env), '$FOO');
  assert.equal(processWord('"$FOO bar"', env), 'foo bar');
  assert.equal(processWord('\\$FOO', env), '$FOO');
  assert.equal(processWord('"\\$FOO"', env), '$FOO');
  assert.equal(processWord('"a\\b"', env), 'a\\b');
  assert.equal(processWord('hello world', env), 'hello world');
  assert.equal(processWord('"hello"\\ world', env), 'hello world');
  assert.equal(processWord('`$FOO', env, '`'), '$FOO');
});

test('hostile or broken input gives a clear error', () => {
  assert.throws(() => processWord('"open', env), /matching double-quote/);
  assert.throws(() => processWord(`'open`, env), /matching single-quote/);
  assert.throws(() => processWord('${FOO', env), /missing '}'/);
  assert.throws(() => processWord('${FOO^}', env), /unsupported modifier \(\^\)/);
  assert.throws(() => processWord('${}', env), /bad substitution/);
});

test('processWords splits unquoted expansions (EXPOSE $PORTS)', () => {
  assert.deepEqual(processWords('$PORTS 8080/udp', env), ['80', '443', '8080/udp']);
  assert.deepEqual(processWords('"$PORTS"', env), ['80 443']);
  assert.deepEqual(processWords('  a   b ', env), ['a', 'b']);
  assert.deepEqual(processWords('$NOPE', env), []);
});

test('tracked processing reports the variables a word used', () => {
  const result = processWordTracked('${A:-x}$B', lookupIn({ B: 'b' }));
  assert.equal(result.value, 'xb');
  assert.deepEqual([...result.used].sort(), ['A', 'B']);
});

test('heredoc bodies keep quotes but expand variables', () => {
  assert.equal(expandHeredoc('echo "$FOO" \'$FOO\' \\$FOO\n', env), 'echo "foo" \'foo\' $FOO\n');
});
