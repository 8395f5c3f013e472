// What the builder needs from the rest of the engine. The daemon adapts its image store,
// snapshotter and runtime to these small interfaces (src/daemon/build/); unit tests use a
// recording in-memory implementation. The builder imports no other domain.
import type { ImageConfig } from '../oci/image.js';

/** An image as the builder sees it: its id (`sha256:` of the config) and its config. */
export interface BuildImage {
  id: string;
  config: ImageConfig;
}

export interface ResolveOptions {
  /** `--pull`: always ask the registry even when a local copy exists */
  pull: boolean;
  platform: string | undefined;
  /** progress text for the build output (pull progress) */
  onProgress: (text: string) => void;
}

/** Finds base images and records the images the build produces. */
export interface ImageBackend {
  /** a name or id -> the image, pulling when missing (or always, with pull) */
  resolve(reference: string, options: ResolveOptions): Promise<BuildImage>;
  /** an image by id, or undefined when it no longer exists (cache validation) */
  get(id: string): Promise<BuildImage | undefined>;
  /** a local image by name or id, never pulled (`--cache-from`); undefined when absent */
  find(reference: string): Promise<BuildImage | undefined>;
  /**
   * Store an image config whose layers (rootfs.diff_ids) are all known to the store;
   * `parent` is the image it was built on; layers the build did not make may come from
   * `layerSource` (an image holding them, for `--cache-from`). Returns the image id.
   */
  store(config: ImageConfig, parent: string | undefined, layerSource?: string): Promise<string>;
  tag(id: string, reference: string): Promise<void>;
}

/** A writable root filesystem on top of an image's layers. */
export interface WritableRoot {
  /** host path of the mounted root */
  readonly path: string;
  /** diff the changes into a new layer; undefined when nothing changed */
  commit(): Promise<CommittedLayer | undefined>;
  /** unmount and remove; safe to call twice */
  release(): Promise<void>;
}

export interface CommittedLayer {
  /** sha256 of the uncompressed layer tar */
  diffId: string;
  size: number;
}

export interface RootfsBackend {
  /** a writable root over a stored image's filesystem; undefined is an empty root (scratch) */
  prepare(imageId: string | undefined, purpose: string): Promise<WritableRoot>;
}

export type BuildMount =
  | { type: 'bind'; source: string; target: string; readonly: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes: number | undefined };

export interface RunRequest {
  /** short id for output and for naming kernel resources */
  id: string;
  root: WritableRoot;
  args: string[];
  env: string[];
  user: string;
  workingDir: string;
  /** `default` (bridge), `none` or `host` */
  network: string;
  mounts: BuildMount[];
  onOutput: (chunk: Uint8Array) => void;
}

/** Runs one process of a RUN step to completion; must clean up its container either way. */
export interface RunBackend {
  run(request: RunRequest): Promise<{ exitCode: number }>;
}

export interface BuildBackends {
  images: ImageBackend;
  rootfs: RootfsBackend;
  runner: RunBackend;
  /** remote files for ADD <url>; defaults to global fetch */
  fetch?: typeof fetch;
}

/** What the build reports while it runs; the API layer wraps these into Docker's JSON stream. */
export type BuildEvent =
  | { type: 'stream'; text: string }
  | { type: 'aux'; id: string }
  | { type: 'cache'; step: number; instruction: string; hit: boolean; reason: string };
