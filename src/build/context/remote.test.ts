import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGitUrl, isHttpUrl, openRemoteContext, parseGitUrl } from './remote.js';

test('git urls as docker tells them apart from http contexts', () => {
  for (const url of ['git@github.com:a/b.git', 'git://host/repo', 'github.com/a/b', 'https://host/repo.git', 'https://host/repo.git#main:dir']) {
    assert.equal(isGitUrl(url), true, url);
  }
  for (const url of ['https://host/ctx.tar.gz', 'http://host/Dockerfile', 'https://host/a.git/file.tar']) assert.equal(isGitUrl(url), false, url);
  assert.equal(isHttpUrl('http://host/x'), true);
  assert.equal(isHttpUrl('ftp://host/x'), false);
});

test('#ref:dir is split, the ref defaults to HEAD, option-like urls and refs are refused', () => {
  assert.deepEqual(parseGitUrl('https://h/r.git#v1:app/sub'), { repository: 'https://h/r.git', ref: 'v1', subdir: 'app/sub' });
  assert.deepEqual(parseGitUrl('https://h/r.git#:app'), { repository: 'https://h/r.git', ref: 'HEAD', subdir: 'app' });
  assert.deepEqual(parseGitUrl('github.com/a/b'), { repository: 'https://github.com/a/b', ref: 'HEAD', subdir: '' });
  assert.throws(() => parseGitUrl('https://h/r.git#--upload-pack=x'), /invalid git url/);
});

test('an http context that is neither a tarball nor text is refused with its url', async () => {
  const binary = (async () => new Response(new Uint8Array([0, 1, 2, 0xff, 0xfe]))) as unknown as typeof fetch;
  await assert.rejects(openRemoteContext('http://h/blob', 'Dockerfile', '/tmp', binary), /the build context at http:\/\/h\/blob is neither a tarball nor a text Dockerfile/);
  await assert.rejects(openRemoteContext('ftp://h/x', 'Dockerfile', '/tmp'), /remote context ftp:\/\/h\/x is neither a git repository nor an http\(s\) url/);
});
