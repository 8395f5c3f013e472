// POST /build as the classic builder speaks it: the query parameters -> a BuildApiRequest,
// and build events -> the JSON messages docker's CLI prints (`stream`, `aux`, `errorDetail`).
// The /build route (server/) only has to pipe the body in and these messages out.
import { z } from 'zod';
import { invalidArgument, isBerthError } from '../../errors/berth-error.js';
import type { BuildEvent } from '../../build/backends.js';
import { isGitUrl, isHttpUrl } from '../../build/context/remote.js';
import type { BuildApiRequest } from './build-service.js';

const stringMap = z.record(z.string(), z.string().nullable());

function jsonParam<T extends z.ZodTypeAny>(query: URLSearchParams, name: string, schema: T): z.output<T> | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw invalidArgument('BUILD_BAD_QUERY', `query parameter ${name} is not valid JSON`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidArgument('BUILD_BAD_QUERY', `query parameter ${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as z.output<T>;
}

const flag = (query: URLSearchParams, name: string): boolean => ['1', 'true', 'True'].includes(query.get(name) ?? '');

/** Docker's /build query string (everything but the context body). */
export function buildRequestFromQuery(query: URLSearchParams): Omit<BuildApiRequest, 'context'> {
  const remote = query.get('remote');
  if (remote && !isGitUrl(remote) && !isHttpUrl(remote)) {
    throw invalidArgument('BUILD_BAD_REMOTE', `remote context ${remote} is neither a git repository nor an http(s) url`);
  }
  const buildArgs = jsonParam(query, 'buildargs', stringMap) ?? {};
  const labels = jsonParam(query, 'labels', stringMap) ?? {};
  const request: Omit<BuildApiRequest, 'context'> = {
    tags: query.getAll('t').filter((t) => t !== ''),
    buildArgs: Object.fromEntries(Object.entries(buildArgs).map(([k, v]) => [k, v ?? undefined])),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])),
    noCache: flag(query, 'nocache'),
    pull: flag(query, 'pull'),
  };
  if (remote) request.remote = remote;
  const dockerfile = query.get('dockerfile');
  if (dockerfile) request.dockerfile = dockerfile;
  const target = query.get('target');
  if (target) request.target = target;
  const network = query.get('networkmode');
  if (network && network !== 'default' && network !== 'bridge') request.network = network;
  const cacheFrom = jsonParam(query, 'cachefrom', z.array(z.string().max(1024)).max(64));
  if (cacheFrom && cacheFrom.length > 0) request.cacheFrom = cacheFrom;
  const platform = query.get('platform');
  if (platform) request.platform = platform;
  return request;
}

export type DockerJsonMessage =
  | { stream: string }
  | { aux: { ID: string } }
  | { errorDetail: { code?: number; message: string }; error: string };

/**
 * One build event as docker's JSON messages (none for events the API does not show). With
 * q=1 the image ID also comes as a stream line, which is what `docker build -q` prints.
 */
export function toJsonMessages(event: BuildEvent, quiet: boolean): DockerJsonMessage[] {
  if (event.type === 'aux') return quiet ? [{ aux: { ID: event.id } }, { stream: `${event.id}\n` }] : [{ aux: { ID: event.id } }];
  if (event.type === 'stream' && !quiet) return [{ stream: event.text }];
  return [];
}

/** The final message of a failed build. */
export function errorMessage(err: unknown): DockerJsonMessage {
  const message = err instanceof Error ? err.message : String(err);
  const exitCode = isBerthError(err) ? err.detail?.['exitCode'] : undefined;
  return { errorDetail: { ...(typeof exitCode === 'number' ? { code: exitCode } : {}), message }, error: message };
}
