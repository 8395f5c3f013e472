// The Docker Engine API, one method per endpoint the CLI uses. Paths and query names
// follow the swagger in shared/ref/docker-engine-api; answers are decoded in types.ts.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { arr, type Decoder } from './decode.js';
import { ApiTransport, type ApiRequest, type Hijacked, type QueryValue } from './transport.js';
import * as t from './types.js';

export type Filters = Record<string, string[]>;

function filtersParam(filters: Filters | undefined): string | undefined {
  return filters === undefined || Object.keys(filters).length === 0 ? undefined : JSON.stringify(
    Object.fromEntries(Object.entries(filters).map(([key, values]) => [key, Object.fromEntries(values.map((v) => [v, true]))])),
  );
}

const id = (value: string): string => encodeURIComponent(value);

export class DockerClient {
  constructor(readonly transport: ApiTransport) {}

  private async get<T>(path: string, decode: Decoder<T>, query?: Record<string, QueryValue>): Promise<T> {
    return decode(await this.transport.json({ path, query }), path);
  }

  private async post<T>(req: ApiRequest, decode: Decoder<T>): Promise<T> {
    return decode(await this.transport.json({ method: 'POST', ...req }), req.path);
  }

  private async stream(req: ApiRequest): Promise<IncomingMessage> {
    return await this.transport.request(req);
  }

  // --- system
  async version(): Promise<t.ServerVersion> { return await this.get('/version', t.decodeVersion); }
  async info(): Promise<unknown> { return await this.transport.json({ path: '/info' }); }
  async diskUsage(): Promise<Decoded<typeof t.decodeDiskUsage>> { return await this.get('/system/df', t.decodeDiskUsage); }
  async events(query: { since?: string; until?: string; filters?: Filters }): Promise<IncomingMessage> {
    return await this.stream({ path: '/events', query: { since: query.since, until: query.until, filters: filtersParam(query.filters) } });
  }
  async login(auth: Record<string, string>): Promise<Decoded<typeof t.decodeAuth>> {
    return await this.post({ path: '/auth', json: auth }, t.decodeAuth);
  }

  // --- containers
  async listContainers(query: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }): Promise<t.ContainerSummary[]> {
    return await this.get('/containers/json', arr(t.decodeContainerSummary),
      { all: query.all, limit: query.limit, size: query.size, filters: filtersParam(query.filters) });
  }
  async createContainer(name: string | undefined, config: Record<string, unknown>, platform?: string): Promise<Decoded<typeof t.decodeCreated>> {
    return await this.post({ path: '/containers/create', query: { name, platform }, json: config }, t.decodeCreated);
  }
  async inspectContainer(ref: string, size = false): Promise<t.ContainerInspect> {
    return await this.get(`/containers/${id(ref)}/json`, t.decodeContainerInspect, { size: size || undefined });
  }
  async inspectContainerRaw(ref: string, size = false): Promise<unknown> {
    return await this.transport.json({ path: `/containers/${id(ref)}/json`, query: { size: size || undefined } });
  }
  async startContainer(ref: string, detachKeys?: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/start`, query: { detachKeys } });
  }
  async stopContainer(ref: string, timeout?: number, signal?: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/stop`, query: { t: timeout, signal } });
  }
  async restartContainer(ref: string, timeout?: number, signal?: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/restart`, query: { t: timeout, signal } });
  }
  async killContainer(ref: string, signal?: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/kill`, query: { signal } });
  }
  async removeContainer(ref: string, query: { force?: boolean; v?: boolean; link?: boolean }): Promise<void> {
    await this.transport.call({ method: 'DELETE', path: `/containers/${id(ref)}`, query });
  }
  async pauseContainer(ref: string): Promise<void> { await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/pause` }); }
  async unpauseContainer(ref: string): Promise<void> { await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/unpause` }); }
  async renameContainer(ref: string, name: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/rename`, query: { name } });
  }
  async updateContainer(ref: string, update: Record<string, unknown>): Promise<unknown> {
    return await this.transport.json({ method: 'POST', path: `/containers/${id(ref)}/update`, json: update });
  }
  async waitContainer(ref: string, condition?: string): Promise<Decoded<typeof t.decodeWait>> {
    return await this.post({ path: `/containers/${id(ref)}/wait`, query: { condition } }, t.decodeWait);
  }
  /** Start waiting now (so a fast exit is not missed); the promise settles at exit. */
  async waitResponse(ref: string, condition?: string): Promise<IncomingMessage> {
    return await this.stream({ method: 'POST', path: `/containers/${id(ref)}/wait`, query: { condition } });
  }
  async top(ref: string, psArgs?: string): Promise<Decoded<typeof t.decodeTopResult>> {
    return await this.get(`/containers/${id(ref)}/top`, t.decodeTopResult, { ps_args: psArgs });
  }
  async changes(ref: string): Promise<Decoded<typeof t.decodeChange>[]> {
    return (await this.get(`/containers/${id(ref)}/changes`, (v, w) => (v === null || v === undefined ? [] : arr(t.decodeChange)(v, w))));
  }
  async logs(ref: string, query: Record<string, QueryValue>): Promise<IncomingMessage> {
    return await this.stream({ path: `/containers/${id(ref)}/logs`, query });
  }
  async stats(ref: string, stream: boolean): Promise<IncomingMessage> {
    return await this.stream({ path: `/containers/${id(ref)}/stats`, query: { stream } });
  }
  async exportContainer(ref: string): Promise<IncomingMessage> { return await this.stream({ path: `/containers/${id(ref)}/export` }); }
  async getArchive(ref: string, path: string): Promise<IncomingMessage> {
    return await this.stream({ path: `/containers/${id(ref)}/archive`, query: { path } });
  }
  async putArchive(ref: string, path: string, tar: Readable | Buffer, query: Record<string, QueryValue> = {}): Promise<void> {
    await this.transport.call({ method: 'PUT', path: `/containers/${id(ref)}/archive`, query: { path, ...query }, raw: tar });
  }
  async statPath(ref: string, path: string): Promise<unknown> {
    const res = await this.transport.request({ method: 'HEAD', path: `/containers/${id(ref)}/archive`, query: { path } });
    res.resume();
    const header = res.headers['x-docker-container-path-stat'];
    return typeof header === 'string' ? JSON.parse(Buffer.from(header, 'base64').toString('utf8')) : undefined;
  }
  async resizeContainer(ref: string, rows: number, cols: number): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/containers/${id(ref)}/resize`, query: { h: rows, w: cols } });
  }
  async attach(ref: string, query: Record<string, QueryValue>): Promise<Hijacked> {
    return await this.transport.hijack({ path: `/containers/${id(ref)}/attach`, query: { stream: true, ...query } });
  }
  async pruneContainers(filters?: Filters): Promise<Decoded<typeof t.decodePruneContainers>> {
    return await this.post({ path: '/containers/prune', query: { filters: filtersParam(filters) } }, t.decodePruneContainers);
  }
  async commit(ref: string, query: Record<string, QueryValue>, config: Record<string, unknown>): Promise<Decoded<typeof t.decodeCreated>> {
    return await this.post({ path: '/commit', query: { container: ref, ...query }, json: config }, t.decodeCreated);
  }

  // --- exec
  async createExec(ref: string, config: Record<string, unknown>): Promise<Decoded<typeof t.decodeCreated>> {
    return await this.post({ path: `/containers/${id(ref)}/exec`, json: config }, t.decodeCreated);
  }
  async startExec(execId: string, config: { Detach: boolean; Tty: boolean }): Promise<Hijacked | undefined> {
    if (config.Detach) {
      await this.transport.call({ method: 'POST', path: `/exec/${id(execId)}/start`, json: config });
      return undefined;
    }
    return await this.transport.hijack({ path: `/exec/${id(execId)}/start`, json: config });
  }
  async inspectExec(execId: string): Promise<Decoded<typeof t.decodeExecInspect>> {
    return await this.get(`/exec/${id(execId)}/json`, t.decodeExecInspect);
  }
  async resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/exec/${id(execId)}/resize`, query: { h: rows, w: cols } });
  }

  // --- networks
  async listNetworks(filters?: Filters): Promise<t.NetworkSummary[]> {
    return await this.get('/networks', arr(t.decodeNetwork), { filters: filtersParam(filters) });
  }
  async inspectNetworkRaw(ref: string): Promise<unknown> { return await this.transport.json({ path: `/networks/${id(ref)}` }); }
  async createNetwork(config: Record<string, unknown>): Promise<Decoded<typeof t.decodeCreated>> {
    return await this.post({ path: '/networks/create', json: config }, t.decodeCreated);
  }
  async removeNetwork(ref: string): Promise<void> { await this.transport.call({ method: 'DELETE', path: `/networks/${id(ref)}` }); }
  async connectNetwork(ref: string, container: string, endpoint: Record<string, unknown>): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/networks/${id(ref)}/connect`, json: { Container: container, EndpointConfig: endpoint } });
  }
  async disconnectNetwork(ref: string, container: string, force: boolean): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/networks/${id(ref)}/disconnect`, json: { Container: container, Force: force } });
  }
  async pruneNetworks(filters?: Filters): Promise<{ NetworksDeleted?: string[] | undefined }> {
    return await this.post({ path: '/networks/prune', query: { filters: filtersParam(filters) } }, t.decodePruneNetworks);
  }

  // --- build
  async pruneBuildCache(options: { all: boolean; filters: Filters; keepStorage: number | undefined }): Promise<Decoded<typeof t.decodePruneBuildCache>> {
    return await this.post({
      path: '/build/prune',
      query: { all: options.all || undefined, filters: filtersParam(options.filters), 'keep-storage': options.keepStorage },
    }, t.decodePruneBuildCache);
  }
  async build(context: Readable, query: Record<string, QueryValue>): Promise<IncomingMessage> {
    return await this.stream({ method: 'POST', path: '/build', query, raw: context });
  }

  // --- images
  async listImages(query: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<t.ImageSummary[]> {
    return await this.get('/images/json', arr(t.decodeImageSummary), { all: query.all, digests: query.digests, filters: filtersParam(query.filters) });
  }
  async inspectImageRaw(ref: string): Promise<unknown> { return await this.transport.json({ path: `/images/${ref}/json` }); }
  async history(ref: string): Promise<t.HistoryItem[]> { return await this.get(`/images/${ref}/history`, arr(t.decodeHistoryItem)); }
  async tagImage(ref: string, repo: string, tag: string | undefined): Promise<void> {
    await this.transport.call({ method: 'POST', path: `/images/${ref}/tag`, query: { repo, tag } });
  }
  async removeImage(ref: string, query: { force?: boolean; noprune?: boolean }): Promise<Decoded<typeof t.decodeDeleteItems>> {
    return t.decodeDeleteItems(await this.transport.json({ method: 'DELETE', path: `/images/${ref}`, query }), ref);
  }
  async pruneImages(filters?: Filters): Promise<Decoded<typeof t.decodePruneImages>> {
    return await this.post({ path: '/images/prune', query: { filters: filtersParam(filters) } }, t.decodePruneImages);
  }
  async pull(fromImage: string, tag: string | undefined, authHeader?: string, platform?: string): Promise<IncomingMessage> {
    return await this.stream({ method: 'POST', path: '/images/create', query: { fromImage, tag, platform }, headers: authHeader === undefined ? {} : { 'X-Registry-Auth': authHeader } });
  }
  async importImage(source: Readable | string, query: { repo?: string; tag?: string; message?: string; changes?: string[] }): Promise<IncomingMessage> {
    const fromSrc = typeof source === 'string' ? source : '-';
    return await this.stream({ method: 'POST', path: '/images/create', query: { fromSrc, ...query }, ...(typeof source === 'string' ? {} : { raw: source }) });
  }
  async push(name: string, tag: string | undefined, authHeader: string): Promise<IncomingMessage> {
    return await this.stream({ method: 'POST', path: `/images/${name}/push`, query: { tag }, headers: { 'X-Registry-Auth': authHeader } });
  }
  async save(names: string[]): Promise<IncomingMessage> { return await this.stream({ path: '/images/get', query: { names } }); }
  async load(tar: Readable, quiet: boolean): Promise<IncomingMessage> {
    return await this.stream({ method: 'POST', path: '/images/load', query: { quiet }, raw: tar });
  }
}

type Decoded<D> = D extends Decoder<infer T> ? T : never;
