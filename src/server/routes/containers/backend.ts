// What the container routes need from the daemon (daemon/containers/api.ts provides it).
import type { Readable } from 'node:stream';
import type { CreateRequest, UpdateRequest } from '../../../daemon/containers/create-request.js';
import type { ExecCreateRequest } from '../../../daemon/containers/exec.js';
import type { AttachClient, AttachRequest, LogsAnswer, LogsRequest } from '../../../daemon/containers/io.js';
import type { WaitCondition, WaitResult } from '../../../daemon/containers/service.js';
import type { Filters } from '../../query.js';

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface ContainersBackend {
  create(body: CreateRequest, name: string | undefined): Promise<{ Id: string; Warnings: string[] }>;
  inspect(idOrName: string, size: boolean): Promise<Record<string, unknown>>;
  list(options: { all: boolean; limit?: number; size: boolean; filters: Filters }): Promise<Array<Record<string, unknown>>>;
  start(idOrName: string): Promise<void>;
  stop(idOrName: string, options: { signal?: string; timeoutSeconds?: number }): Promise<void>;
  restart(idOrName: string, options: { signal?: string; timeoutSeconds?: number }): Promise<void>;
  kill(idOrName: string, signal: string | undefined): Promise<void>;
  pause(idOrName: string): Promise<void>;
  unpause(idOrName: string): Promise<void>;
  wait(idOrName: string, condition: WaitCondition, signal: AbortSignal): Promise<WaitResult>;
  remove(idOrName: string, options: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  rename(idOrName: string, name: string): Promise<void>;
  update(idOrName: string, body: UpdateRequest): Promise<{ Warnings: string[] }>;
  logs(idOrName: string, request: LogsRequest, signal: AbortSignal): Promise<LogsAnswer>;
  /** is the container's Config.Tty set (framing of attach and logs) */
  isTty(idOrName: string): boolean;
  attach(idOrName: string, request: AttachRequest, client: AttachClient, signal: AbortSignal): Promise<void>;
  resize(idOrName: string, height: number, width: number): Promise<void>;
  top(idOrName: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  stats(idOrName: string, options: { stream: boolean; oneShot: boolean }, signal: AbortSignal): Promise<AsyncIterable<Record<string, unknown>>>;
  changes(idOrName: string): Promise<Array<{ Path: string; Kind: number }>>;
  exportRootfs(idOrName: string, signal: AbortSignal): Promise<Readable>;
  archiveStat(idOrName: string, path: string): Promise<PathStat>;
  archiveGet(idOrName: string, path: string, signal: AbortSignal): Promise<{ stat: PathStat; tar: Readable }>;
  archivePut(idOrName: string, path: string, tar: Readable, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>;
  prune(filters: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  commit(options: { container: string; repo?: string; tag?: string; comment?: string; author?: string; pause: boolean; changes: string[] },
    config: Record<string, unknown> | undefined): Promise<{ Id: string }>;
  execCreate(idOrName: string, body: ExecCreateRequest): Promise<{ Id: string }>;
  /** start the process (errors here are HTTP errors); run() relays stdio until it exits */
  execStart(execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<{ run(client: AttachClient | undefined): Promise<void> }>;
  execIsTty(execId: string): boolean;
  /** throws the conflict (already started, container not running) that would stop execStart */
  execCheckStartable(execId: string): void;
  execResize(execId: string, height: number, width: number): Promise<void>;
  execInspect(execId: string): Promise<Record<string, unknown>>;
}
