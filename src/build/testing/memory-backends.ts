// A recording in-memory implementation of the build backends for unit tests: images in a
// map, layers as full directory snapshots in a temp dir, and a runner that hands each RUN
// to a test-supplied function (which may change files in the root) and records it.
import { cp, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { notFound } from '../../errors/berth-error.js';
import type { ImageConfig } from '../../oci/image.js';
import type { BuildBackends, BuildImage, CommittedLayer, RunRequest, WritableRoot } from '../backends.js';
import { checksumTree } from '../evaluator/file-copy.js';

export interface RecordedRun {
  args: string[];
  env: string[];
  user: string;
  workingDir: string;
  network: string;
  mounts: RunRequest['mounts'];
}

export class MemoryBackends {
  readonly images = new Map<string, BuildImage>();
  readonly tags = new Map<string, string>();
  readonly runs: RecordedRun[] = [];
  readonly prepared: string[] = [];
  /** live writable roots (a test asserts none is left after a build) */
  readonly live = new Set<string>();
  private readonly snapshots = new Map<string, string>();
  private counter = 0;

  private constructor(readonly dir: string) {}

  static async create(): Promise<MemoryBackends> {
    return new MemoryBackends(await mkdtemp(path.join(os.tmpdir(), 'berth-build-test-')));
  }

  /** what RUN does: gets the request, returns the exit code */
  onRun: (request: RunRequest) => Promise<number> | number = () => 0;

  async destroy(): Promise<void> { await rm(this.dir, { recursive: true, force: true }); }

  storeImage(config: ImageConfig): string {
    const id = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`;
    this.images.set(id, { id, config: structuredClone(config) });
    return id;
  }

  /** A base image whose single layer is the given directory. */
  async addBaseImage(name: string, rootDir: string, config: ImageConfig['config'] = {}): Promise<string> {
    const diffId = await this.snapshot(rootDir);
    const id = this.storeImage({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [diffId as never] }, history: [{ created_by: 'base' }] });
    this.tags.set(name, id);
    return id;
  }

  private async snapshot(dir: string): Promise<string> {
    const diffId = `sha256:${await checksumTree(dir, '', undefined, new Map())}`;
    const target = path.join(this.dir, 'layers', diffId.slice(7));
    if (!this.snapshots.has(diffId)) {
      await mkdir(path.dirname(target), { recursive: true });
      await cp(dir, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      this.snapshots.set(diffId, target);
    }
    return diffId;
  }

  backends(): BuildBackends {
    return {
      images: {
        resolve: async (reference) => {
          const id = this.tags.get(reference) ?? this.tags.get(`${reference}:latest`) ?? reference;
          const image = this.images.get(id);
          if (!image) throw notFound('NO_SUCH_IMAGE', `no such image: ${reference}`);
          return structuredClone(image);
        },
        get: async (id) => structuredClone(this.images.get(id)),
        find: async (reference) => structuredClone(this.images.get(this.tags.get(reference) ?? this.tags.get(`${reference}:latest`) ?? reference)),
        store: async (config) => this.storeImage(config),
        tag: async (id, reference) => { this.tags.set(reference, id); },
      },
      rootfs: { prepare: (imageId, purpose) => this.prepare(imageId === undefined ? [] : this.images.get(imageId)?.config.rootfs.diff_ids ?? [], purpose) },
      runner: {
        run: async (request) => {
          this.runs.push({ args: request.args, env: request.env, user: request.user, workingDir: request.workingDir, network: request.network, mounts: request.mounts });
          return { exitCode: await this.onRun(request) };
        },
      },
    };
  }

  private async prepare(diffIds: readonly string[], purpose: string): Promise<WritableRoot> {
    this.prepared.push(purpose);
    const root = path.join(this.dir, 'roots', String(++this.counter));
    const top = diffIds[diffIds.length - 1];
    const source = top === undefined ? undefined : this.snapshots.get(top);
    if (source) await cp(source, root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    else await mkdir(root, { recursive: true });
    this.live.add(root);
    const before = top;
    return {
      path: root,
      commit: async (): Promise<CommittedLayer | undefined> => {
        const diffId = await this.snapshot(root);
        return diffId === before || (before === undefined && diffId === await this.emptyDiffId()) ? undefined : { diffId, size: 1 };
      },
      release: async () => { this.live.delete(root); await rm(root, { recursive: true, force: true }); },
    };
  }

  private async emptyDiffId(): Promise<string> {
    const empty = path.join(this.dir, 'empty');
    await mkdir(empty, { recursive: true });
    return `sha256:${await checksumTree(empty, '', undefined, new Map())}`;
  }
}
