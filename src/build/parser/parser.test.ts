import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, extractFlags, parseHeredocMarker } from './parser.js';
import { parseStages, parseGoDuration, type Instruction } from './instructions.js';

test('comments, blank lines and continuations; line numbers span the continuation', () => {
  const parsed = parseDockerfile([
    '# comment',
    'FROM busybox',
    '',
    'RUN echo a \\',
    '  # a comment inside is dropped',
    '    && echo b',
    'run echo c',
  ].join('\n'));
  assert.equal(parsed.lines.length, 3);
  const run = parsed.lines[1];
  assert.equal(run?.keyword, 'run');
  assert.equal(run?.rest, 'echo a     && echo b');
  assert.equal(run?.startLine, 4);
  assert.equal(run?.endLine, 6);
  assert.equal(parsed.lines[2]?.keywordAsWritten, 'run');
});

test('escape directive switches the continuation character (windows example of the reference)', () => {
  const parsed = parseDockerfile('# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\nRUN a `\n b\n');
  assert.equal(parsed.escape, '`');
  assert.equal(parsed.lines[1]?.rest, 'testfile.txt c:\\');
  assert.equal(parsed.lines[2]?.rest, 'dir c:\\');
  assert.equal(parsed.lines[3]?.rest, 'a  b');
});

test('directives only count at the very top; syntax is accepted; duplicates fail', () => {
  assert.equal(parseDockerfile('# syntax=docker/dockerfile:1\nFROM a\n').syntax, 'docker/dockerfile:1');
  assert.equal(parseDockerfile('FROM a\n# escape=`\nRUN a `\n').escape, '\\');
  assert.equal(parseDockerfile('# comment\n# escape=`\nFROM a\n').escape, '\\');
  assert.equal(parseDockerfile('# unknowndirective=value\n# escape=`\nFROM a\n').escape, '`');
  assert.throws(() => parseDockerfile('# escape=\\\n# escape=`\nFROM a'), /only one escape parser directive/);
});

test('flags are split from arguments, with quotes', () => {
  assert.deepEqual(extractFlags('--from=build --chown="a b" src dst'), { flags: ['--from=build', '--chown=a b'], rest: 'src dst' });
  assert.deepEqual(extractFlags('-- --not-a-flag'), { flags: [], rest: ' --not-a-flag' });
});

test('heredocs: plain, chomped, quoted delimiter, several on one line', () => {
  const parsed = parseDockerfile([
    'FROM busybox',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'COPY <<-"END" <<two /dest/',
    '\tliteral $X',
    '\tEND',
    'second',
    'two',
    'RUN echo after',
  ].join('\n'));
  const run = parsed.lines[1];
  assert.deepEqual(run?.heredocs, [{ name: 'EOF', content: 'echo $HOME\n', expand: true, chomp: false, fileDescriptor: 0 }]);
  assert.equal(run?.endLine, 4);
  const copy = parsed.lines[2];
  assert.equal(copy?.heredocs[0]?.content, 'literal $X\n');
  assert.equal(copy?.heredocs[0]?.expand, false);
  assert.equal(copy?.heredocs[1]?.content, 'second\n');
  assert.equal(parsed.lines[3]?.rest, 'echo after');
  assert.equal(parsed.lines[3]?.startLine, 10);
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n'), /line(s)? 2-3 \(RUN\): unterminated heredoc EOF/);
  assert.equal(parseHeredocMarker('<<'), undefined);
  assert.equal(parseHeredocMarker("<<'EOF'")?.expand, false);
  assert.equal(parseHeredocMarker('3<<EOF')?.fileDescriptor, 3);
});

function only<K extends Instruction['kind']>(text: string, kind: K): Instruction & { kind: K } {
  const found = parseStages(`FROM scratch\n${text}\n`).stages[0]?.instructions[0];
  assert.equal(found?.kind, kind);
  return found as Instruction & { kind: K };
}

test('exec and shell forms', () => {
  assert.deepEqual(only('CMD ["python", "/echo.py"]', 'cmd').command, { form: 'exec', args: ['python', '/echo.py'] });
  assert.deepEqual(only('CMD python /echo.py', 'cmd').command, { form: 'shell', text: 'python /echo.py' });
  // not valid JSON -> shell form, as docker does
  assert.deepEqual(only("CMD ['single']", 'cmd').command, { form: 'shell', text: "['single']" });
  assert.throws(() => only('CMD ["a", 1]', 'cmd'), /only strings/);
  assert.throws(() => only('SHELL /bin/bash -c', 'shell'), /JSON form/);
});

test('ENV and LABEL: both syntaxes, quotes kept for expansion later', () => {
  assert.deepEqual(only('ENV myName John Doe', 'env').pairs, [{ key: 'myName', value: 'John Doe' }]);
  assert.deepEqual(only('ENV a="x y" b=c\\ d', 'env').pairs, [{ key: 'a', value: '"x y"' }, { key: 'b', value: 'c\\ d' }]);
  assert.throws(() => only('ENV a=b c', 'env'), /can't find = in "c"/);
  assert.throws(() => only('ENV onlykey', 'env'), /ENV must have two arguments/);
  assert.deepEqual(only('LABEL "com.example.vendor"="ACME Inc"', 'label').pairs, [{ key: '"com.example.vendor"', value: '"ACME Inc"' }]);
});

test('FROM, ARG, COPY flags and stages', () => {
  const file = parseStages('ARG V=1\nFROM --platform=linux/amd64 busybox:$V AS Build\nCOPY --from=build --chown=1:1 --link a b /d/\nFROM build\nARG X Y=2\n');
  assert.equal(file.globalArgs[0]?.args[0]?.value, '1');
  assert.equal(file.stages[0]?.name, 'build');
  assert.equal(file.stages[0]?.from.platform, 'linux/amd64');
  const copy = file.stages[0]?.instructions[0];
  assert.ok(copy?.kind === 'copy');
  assert.deepEqual([copy.from, copy.chown, copy.link, copy.sources, copy.dest], ['build', '1:1', true, ['a', 'b'], '/d/']);
  const arg = file.stages[1]?.instructions[0];
  assert.ok(arg?.kind === 'arg');
  assert.deepEqual(arg.args, [{ key: 'X', value: undefined }, { key: 'Y', value: '2' }]);
  assert.throws(() => parseStages('FROM a\nCOPY --bogus=1 a b\n'), /line 2 \(COPY\): unknown flag: bogus/);
  assert.throws(() => parseStages('FROM a\nCOPY a\n'), /COPY requires at least two arguments/);
  assert.throws(() => parseStages('RUN x\nFROM a\n'), /line 1 \(RUN\)/);
  assert.throws(() => parseStages('FROM a AS x\nFROM b AS x\n'), /duplicate stage name "x"/);
  assert.throws(() => parseStages('FROM a b\n'), /one or three arguments/);
  assert.throws(() => parseStages('FROM a\nFROB x\n'), /line 2 \(FROB\): unknown instruction: FROB/);
});

test('HEALTHCHECK and ONBUILD', () => {
  const hc = only('HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1', 'healthcheck').check;
  assert.deepEqual(hc.test, ['CMD-SHELL', 'curl -f http://localhost/ || exit 1']);
  assert.equal(hc.intervalNs, 300e9);
  assert.equal(hc.timeoutNs, 3e9);
  assert.deepEqual(only('HEALTHCHECK NONE', 'healthcheck').check.test, ['NONE']);
  assert.throws(() => only('HEALTHCHECK --interval=5 CMD true', 'healthcheck'), /invalid duration/);
  assert.equal(parseGoDuration('1m30.5s'), 90.5e9);
  const ob = only('ONBUILD ADD . /app/src', 'onbuild');
  assert.equal(ob.expression, 'ADD . /app/src');
  assert.equal(ob.trigger.kind, 'add');
  assert.throws(() => only('ONBUILD ONBUILD RUN x', 'onbuild'), /chaining ONBUILD/);
  assert.throws(() => only('ONBUILD FROM x', 'onbuild'), /FROM isn't allowed/);
});

test('the seed example keeps the trailing text of MAINTAINER (comments only start a line)', () => {
  const file = parseStages([
    'FROM centos',
    'MAINTAINER cs312@osuosl.org # Change your email here',
    '',
    'ADD http://ilab.cs.byu.edu/python/code/echoserver-simple.py /echoserver-simple.py',
    'EXPOSE 50000',
    'CMD ["python", "/echoserver-simple.py"]',
  ].join('\n'));
  const kinds = file.stages[0]?.instructions.map((i) => i.kind);
  assert.deepEqual(kinds, ['maintainer', 'add', 'expose', 'cmd']);
  const maintainer = file.stages[0]?.instructions[0];
  assert.ok(maintainer?.kind === 'maintainer');
  assert.equal(maintainer.author, 'cs312@osuosl.org # Change your email here');
});

test('every example of the Dockerfile reference parses, except syntax placeholders and labs flags', async () => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('/work/shared/ref/dockerfile/reference.md', 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const blocks = [...text.matchAll(/```dockerfile\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(blocks.length > 100);
  const placeholder = (b: string): boolean => /<[A-Za-z |]+>|^>|\[--|\[type=|\[,|--device|1-labs|^INSTRUCTION|^# direc/m.test(b);
  let parsed = 0;
  for (const block of blocks) {
    if (placeholder(block)) continue;
    const source = /^\s*(#.*\n|\s*\n)*\s*FROM/i.test(block) ? block : `FROM scratch\n${block.replace(/^(\s*ARG[^\n]*\n)+/i, '')}`;
    assert.doesNotThrow(() => parseStages(source), `reference example:\n${block}`);
    parsed++;
  }
  assert.ok(parsed > 110, `only ${parsed} examples parsed`);
});
