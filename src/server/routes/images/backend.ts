// What the image routes need from the daemon (daemon/engine/images-api.ts provides it).
import type { Readable } from 'node:stream';
import type { Filters } from '../../query.js';

/** registry credentials from the X-Registry-Auth header */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

/** one line of docker's progress JSON */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: unknown;
}

export interface ImagesBackend {
  list(options: { all: boolean; filters: Filters }): Promise<unknown[]>;
  inspect(name: string): Promise<unknown>;
  history(name: string): Promise<unknown[]>;
  tag(name: string, repo: string, tag: string | undefined): Promise<void>;
  remove(name: string, options: { force: boolean; noPrune: boolean }): Promise<unknown[]>;
  prune(filters: Filters): Promise<unknown>;
  pull(reference: string, options: { platform?: string; auth?: RegistryAuth; allTags?: boolean }, progress: (m: ProgressMessage) => void): Promise<void>;
  push(name: string, tag: string | undefined, options: { auth?: RegistryAuth }, progress: (m: ProgressMessage) => void): Promise<void>;
  importRootfs(source: Readable, options: { repo?: string; tag?: string; changes: string[]; message?: string; platform?: string }): Promise<string>;
  save(names: string[]): AsyncIterable<Uint8Array>;
  load(source: Readable): Promise<{ messages: string[] }>;
}
