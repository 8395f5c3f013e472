// /images/... routes: list, inspect, history, tag, remove, prune, pull and import
// (/images/create), push, save (/images/get), load; search answers not implemented.
import { BerthError, invalidArgument } from '../../../errors/berth-error.js';
import { familiarString, isCanonicalDigest, parseReference, parseTag } from '../../../oci/reference.js';
import type { Exchange } from '../../exchange.js';
import { toHttpError } from '../../http-errors.js';
import { shapeImageInspect } from '../../version-shapes.js';
import type { Route } from '../../router.js';
import type { ImagesBackend, ProgressMessage, RegistryAuth } from './backend.js';

const MAX_AUTH_HEADER = 64 * 1024;

export function registryAuth(ex: Exchange): RegistryAuth | undefined {
  const header = ex.req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header === '') return undefined;
  if (header.length > MAX_AUTH_HEADER) throw invalidArgument('BAD_AUTH_HEADER', 'X-Registry-Auth header too large');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    // docker ignores an undecodable header and goes on without credentials
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const pick = (key: string): string | undefined => (typeof v[key] === 'string' && v[key] !== '' ? v[key] : undefined);
  const auth: RegistryAuth = {};
  const username = pick('username'); if (username) auth.username = username;
  const password = pick('password'); if (password) auth.password = password;
  const server = pick('serveraddress'); if (server) auth.serveraddress = server;
  const token = pick('identitytoken'); if (token) auth.identitytoken = token;
  return Object.keys(auth).length > 0 ? auth : undefined;
}

/**
 * A name and the `tag` query parameter as one reference, as dockerd joins them: the tag replaces
 * one the name already has (`repo:v1` with tag=v2 is `repo:v2`), a digest in `tag` pins it.
 */
export function referenceWithTag(name: string, tag: string | undefined): string {
  if (!tag) return name;
  const ref = parseReference(name);
  if (tag.startsWith('sha256:')) {
    if (!isCanonicalDigest(tag)) throw invalidArgument('INVALID_REFERENCE', `invalid digest "${tag.slice(0, 80)}"`);
    return familiarString({ domain: ref.domain, path: ref.path, digest: tag });
  }
  return familiarString({ domain: ref.domain, path: ref.path, tag: parseTag(tag), ...(ref.digest ? { digest: ref.digest } : {}) });
}

/** Run a streaming operation: progress lines, then an error line if it fails midway. */
async function progressStream(ex: Exchange, work: (progress: (m: ProgressMessage) => void) => Promise<void>): Promise<void> {
  const out = ex.jsonStream();
  try {
    await work((m) => out.write(m));
  } catch (err) {
    const { body } = toHttpError(err);
    out.write({ errorDetail: { message: body.message }, error: body.message });
  }
  out.end();
}

export function imageRoutes(backend: ImagesBackend): Route[] {
  return [
    { method: 'GET', path: '/images/json', handler: async (ex) => {
      ex.json(200, await backend.list({ all: ex.queryBool('all'), filters: ex.filters() }));
    } },
    { method: 'POST', path: '/images/create', handler: async (ex) => { await createImage(ex, backend); } },
    { method: 'GET', path: '/images/search', handler: async () => {
      throw new BerthError('not_implemented', 'NO_SEARCH', 'search is not implemented by berth');
    } },
    { method: 'POST', path: '/images/prune', handler: async (ex) => { ex.json(200, await backend.prune(ex.filters())); } },
    { method: 'GET', path: '/images/get', handler: async (ex) => {
      const names = ex.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean);
      if (names.length === 0) throw invalidArgument('NO_NAMES', 'no image names given to save');
      await sendTar(ex, backend.save(names));
    } },
    { method: 'POST', path: '/images/load', handler: async (ex) => {
      const result = await backend.load(ex.bodyStream());
      const out = ex.jsonStream();
      for (const message of result.messages) out.write({ stream: `${message}\n` });
      out.end();
    } },
    { method: 'GET', path: '/images/{name*}/json', handler: async (ex) => { ex.json(200, shapeImageInspect(await backend.inspect(ex.param('name')), ex.apiVersion)); } },
    { method: 'GET', path: '/images/{name*}/history', handler: async (ex) => { ex.json(200, await backend.history(ex.param('name'))); } },
    { method: 'GET', path: '/images/{name*}/get', handler: async (ex) => { await sendTar(ex, backend.save([ex.param('name')])); } },
    { method: 'POST', path: '/images/{name*}/push', handler: async (ex) => {
      const auth = registryAuth(ex);
      const name = referenceWithTag(ex.param('name'), ex.queryString('tag'));
      await progressStream(ex, (progress) => backend.push(name, undefined, auth ? { auth } : {}, progress));
    } },
    { method: 'POST', path: '/images/{name*}/tag', handler: async (ex) => {
      const repo = ex.queryString('repo');
      if (!repo) throw invalidArgument('NO_REPO', 'repository name must have at least one component');
      await backend.tag(ex.param('name'), referenceWithTag(repo, ex.queryString('tag')), undefined);
      ex.noContent(201);
    } },
    { method: 'DELETE', path: '/images/{name*}', handler: async (ex) => {
      ex.json(200, await backend.remove(ex.param('name'), { force: ex.queryBool('force'), noPrune: ex.queryBool('noprune') }));
    } },
  ];
}

async function createImage(ex: Exchange, backend: ImagesBackend): Promise<void> {
  const fromImage = ex.queryString('fromImage');
  const fromSrc = ex.queryString('fromSrc');
  const platform = ex.queryString('platform') || undefined;
  if (fromImage) {
    const tag = ex.queryString('tag');
    const reference = referenceWithTag(fromImage, tag);
    const auth = registryAuth(ex);
    // no tag: every tag of the repository, as the API documents (docker pull --all-tags)
    await progressStream(ex, (progress) => backend.pull(reference,
      { ...(platform ? { platform } : {}), ...(auth ? { auth } : {}), ...(tag ? {} : { allTags: true }) }, progress));
    return;
  }
  if (fromSrc === '-') {
    const repo = ex.queryString('repo') || undefined;
    const tag = ex.queryString('tag') || undefined;
    const message = ex.queryString('message') || undefined;
    const changes = ex.query.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean);
    const id = await backend.importRootfs(ex.bodyStream(), { ...(repo ? { repo } : {}), ...(tag ? { tag } : {}), changes,
      ...(message ? { message } : {}), ...(platform ? { platform } : {}) });
    const out = ex.jsonStream();
    out.write({ status: id });
    out.end();
    return;
  }
  if (fromSrc) throw new BerthError('not_implemented', 'IMPORT_URL', 'importing from a URL is not supported; pipe the archive instead (fromSrc=-)');
  throw invalidArgument('NO_SOURCE', 'either fromImage or fromSrc must be given');
}

async function sendTar(ex: Exchange, source: AsyncIterable<Uint8Array>): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  // the first chunk proves the names resolve: errors before it are clean HTTP errors
  const first = await iterator.next();
  const out = ex.download('application/x-tar');
  if (!first.done) out.write(first.value);
  for (;;) {
    if (ex.signal.aborted) { await iterator.return?.(); break; }
    const next = await iterator.next();
    if (next.done) break;
    if (!out.write(next.value)) await new Promise((resolve) => out.once('drain', resolve));
  }
  out.end();
}
