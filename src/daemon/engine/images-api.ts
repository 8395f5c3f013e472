// The images service (daemon/images) and the registry client as the API routes see them:
// pull and push with credentials from the request, progress as docker's JSON lines,
// filters, import/save/load, and image events.
import type { Readable } from 'node:stream';
import { BerthError, invalidArgument } from '../../errors/berth-error.js';
import { parsePlatform } from '../../oci/image.js';
import { familiarString, parseNormalizedReference, parseReference } from '../../oci/reference.js';
import { RegistryClient } from '../../registry/client.js';
import type { ProgressEvent } from '../../registry/progress.js';
import type { EventBus } from '../events/event-bus.js';
import { loadImages, saveImages } from '../images/archive.js';
import type { ImageService } from '../images/image-service.js';
import { importImage } from '../images/import-export.js';
import { pullImage } from '../images/pull.js';
import { pushImage } from '../images/push.js';

export type Filters = ReadonlyMap<string, readonly string[]>;

export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  /** what docker's push ends with, for clients that read the pushed digest */
  aux?: { Tag: string; Digest: string; Size: number };
}

const IMAGE_LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'];

function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = Math.min(width, Math.floor((current / Math.max(total, 1)) * width));
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${current}/${total}`;
}

function toMessage(event: ProgressEvent): ProgressMessage {
  const message: ProgressMessage = { status: event.status };
  if (event.id !== undefined) message.id = event.id;
  if (event.current !== undefined) {
    message.progressDetail = { current: event.current, ...(event.total === undefined ? {} : { total: event.total }) };
    if (event.total) message.progress = progressBar(event.current, event.total);
  }
  return message;
}

export class ImagesApi {
  constructor(private readonly images: ImageService, private readonly events: EventBus,
    private readonly registryPolicy: { insecureRegistries?: readonly string[] }) {}

  private client(auth: RegistryAuth | undefined): RegistryClient {
    const credentials = auth && (auth.username || auth.identitytoken)
      ? { username: auth.username ?? '', ...(auth.password ? { password: auth.password } : {}), ...(auth.identitytoken ? { identityToken: auth.identitytoken } : {}) }
      : undefined;
    return new RegistryClient({
      ...this.registryPolicy,
      ...(credentials ? { credentials: { get: async () => credentials } } : {}),
    });
  }

  async list(options: { all: boolean; filters: Filters }): Promise<unknown[]> {
    for (const key of options.filters.keys()) if (!IMAGE_LIST_FILTERS.includes(key)) throw invalidArgument('BAD_FILTERS', `invalid filter '${key}'`);
    const dangling = options.filters.get('dangling')?.[0];
    const reference = options.filters.get('reference')?.[0];
    const list = await this.images.list({ all: options.all, ...(dangling === undefined ? {} : { dangling: dangling === 'true' || dangling === '1' }),
      ...(reference === undefined ? {} : { reference }) });
    const labels = options.filters.get('label') ?? [];
    return list.filter((image) => labels.every((l) => {
      const imageLabels = (image as { Labels?: Record<string, string> | null }).Labels ?? {};
      const eq = l.indexOf('=');
      return eq < 0 ? imageLabels[l] !== undefined : imageLabels[l.slice(0, eq)] === l.slice(eq + 1);
    }));
  }

  inspect(name: string): Promise<unknown> { return this.images.inspect(name); }
  history(name: string): Promise<unknown[]> { return this.images.history(name); }

  async tag(name: string, repo: string, tag: string | undefined): Promise<void> {
    const target = tag ? `${repo}:${tag}` : repo;
    await this.images.tag(name, target);
    const { record, config } = await this.images.resolve(target);
    // as dockerd: an image event carries the image's labels (so `events --filter label=` finds it)
    this.events.publish('image', 'tag', record.id, { ...config.config?.Labels, name: familiarString(parseNormalizedReference(target)) });
  }

  async remove(name: string, options: { force: boolean; noPrune: boolean }): Promise<unknown[]> {
    const labels = await this.images.resolve(name).then(({ config }) => config.config?.Labels ?? {}, () => ({}));
    const items = await this.images.remove(name, options);
    for (const item of items) {
      const i = item as { Untagged?: string; Deleted?: string };
      if (i.Untagged) this.events.publish('image', 'untag', i.Untagged, { ...labels, name: i.Untagged });
      if (i.Deleted) this.events.publish('image', 'delete', i.Deleted, { name: i.Deleted });
    }
    return items;
  }

  async prune(filters: Filters): Promise<unknown> {
    const dangling = filters.get('dangling')?.[0];
    const until = filters.get('until')?.[0];
    const result = await this.images.prune({ all: dangling === 'false' || dangling === '0',
      ...(until ? { until: /^\d+(\.\d+)?$/.test(until) ? Number(until) : Date.parse(until) / 1000 } : {}),
      ...(filters.get('label') ? { label: [...(filters.get('label') ?? [])] } : {}) });
    this.events.publish('image', 'prune', '', { reclaimed: String(result.SpaceReclaimed) });
    return result;
  }

  /** POST /images/create; with allTags and no tag in the reference, every tag of the repository. */
  async pull(reference: string, options: { platform?: string; auth?: RegistryAuth; allTags?: boolean },
    progress: (m: ProgressMessage) => void): Promise<void> {
    const given = parseReference(reference);
    const allTags = options.allTags === true && given.tag === undefined && given.digest === undefined;
    const ref = allTags ? given : parseNormalizedReference(reference);
    const client = this.client(options.auth);
    try {
      const tags = allTags ? (await client.repository(ref.domain, ref.path).listTags()).sort() : [undefined];
      let upToDate = true;
      for (const tag of tags) {
        const pulled = await pullImage(client, this.images.pullStore(), tag === undefined ? ref : { ...ref, tag }, {
          ...(options.platform ? { platform: parsePlatform(options.platform) } : {}), onProgress: (e) => progress(toMessage(e)),
        });
        progress({ status: `Digest: ${pulled.target.digest}` });
        upToDate &&= pulled.upToDate;
      }
      const name = familiarString(ref);
      progress({ status: upToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
      this.events.publish('image', 'pull', name, { name });
    } finally {
      client.close();
    }
  }

  /** POST /images/{name}/push; without a tag, every local tag of the repository (docker push --all-tags). */
  async push(name: string, tag: string | undefined, options: { auth?: RegistryAuth }, progress: (m: ProgressMessage) => void): Promise<void> {
    const ref = parseReference(tag ? `${name}:${tag}` : name);
    const client = this.client(options.auth);
    try {
      const tags = ref.tag !== undefined || ref.digest !== undefined ? [ref.tag] : await this.images.tagsOf(ref);
      if (tags.length === 0) {
        throw new BerthError('not_found', 'NO_SUCH_IMAGE', `An image does not exist locally with the tag: ${familiarString(ref)}`);
      }
      progress({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
      for (const each of tags) {
        const target = each === undefined ? ref : { ...ref, tag: each };
        const result = await pushImage(client, this.images.pushStore(), target, { onProgress: (e) => progress(toMessage(e)) });
        progress({ status: `${target.tag ?? 'latest'}: digest: ${result.pushed.digest} size: ${result.pushed.size}` });
        progress({ progressDetail: {}, aux: { Tag: target.tag ?? 'latest', Digest: result.pushed.digest, Size: result.pushed.size } });
        this.events.publish('image', 'push', familiarString(target), { name: familiarString(target) });
      }
    } finally {
      client.close();
    }
  }

  async importRootfs(source: Readable, options: { repo?: string; tag?: string; changes: string[]; message?: string; platform?: string }): Promise<string> {
    const reference = options.repo ? (options.tag ? `${options.repo}:${options.tag}` : options.repo) : undefined;
    const id = await importImage(this.images, source, {
      ...(reference ? { reference } : {}), changes: options.changes, ...(options.message ? { message: options.message } : {}),
      ...(options.platform ? { platform: parsePlatform(options.platform) } : {}),
    });
    this.events.publish('image', 'import', id, reference ? { name: reference } : {});
    return id;
  }

  save(names: string[]): AsyncIterable<Uint8Array> {
    for (const name of names) this.events.publish('image', 'save', name, { name });
    return saveImages(this.images, names);
  }

  async load(source: Readable): Promise<{ messages: string[] }> {
    const result = await loadImages(this.images, source);
    for (const id of result.images) this.events.publish('image', 'load', id);
    if (result.images.length === 0) throw new BerthError('invalid_argument', 'EMPTY_LOAD', 'no images found in the archive');
    return { messages: result.messages };
  }
}
