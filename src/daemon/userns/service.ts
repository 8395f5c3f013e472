// Per-container user namespaces for berthd: which containers get one (--userns, or every
// container under --userns-remap), the subordinate ids each gets (a disjoint block from
// the remap user's ranges, persisted, freed on removal) and what `info` says about it.
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';
import type { IdMaps } from '../../sys/idmap.js';
import { DEFAULT_BLOCK_SIZE, parseUsernsMode } from './mode.js';
import { ensureSubidEntry, parseRemapSpec, resolveRemapUser, SYSTEM_ACCOUNT_FILES, type AccountFiles, type RemapUser } from './remap-user.js';
import { readUserRanges, SubidAllocator } from './subid-ranges.js';

export interface UsernsServiceOptions {
  dataRoot: string;
  /** --userns-remap: default|USER[:GROUP]; every container without --userns gets a block */
  remap?: string;
  /** /etc/passwd, /etc/group, /etc/subuid, /etc/subgid (tests point them elsewhere) */
  files?: Partial<AccountFiles>;
  /** a rootless daemon: keep-id means something there */
  rootless?: boolean;
}

/** The part of a container's HostConfig that decides its user namespace. */
export interface UsernsHostConfig {
  UsernsMode?: string | undefined;
}

export class UsernsService {
  private allocator: SubidAllocator | undefined;
  private opening: Promise<SubidAllocator> | undefined;

  private constructor(private readonly options: UsernsServiceOptions, private readonly files: AccountFiles,
    private readonly statePath: string) {}

  /** With --userns-remap the user and its ranges are checked now: a daemon that cannot remap does not start. */
  static async open(options: UsernsServiceOptions): Promise<UsernsService> {
    if (options.remap !== undefined) parseRemapSpec(options.remap);
    const service = new UsernsService(options, { ...SYSTEM_ACCOUNT_FILES, ...options.files }, path.join(options.dataRoot, 'userns', 'allocations.json'));
    if (options.remap !== undefined) await service.openAllocator();
    else await service.openExisting();
    return service;
  }

  /** Allocations made earlier (containers created with --userns=auto) are known without a remap user. */
  private async openExisting(): Promise<void> {
    const state = await SubidAllocator.open(this.statePath, [], [], DEFAULT_BLOCK_SIZE);
    if (state.inUse().size > 0) await this.openAllocator();
  }

  private async openAllocator(): Promise<SubidAllocator> {
    if (this.allocator) return this.allocator;
    this.opening ??= (async () => {
      const user = await resolveRemapUser(this.options.remap ?? 'default', this.files);
      if (parseRemapSpec(this.options.remap ?? 'default').isDefault) {
        await ensureSubidEntry(this.files.subuid, user.name, user.uid);
        await ensureSubidEntry(this.files.subgid, user.group, user.gid);
      }
      const allocator = await SubidAllocator.open(this.statePath, ...await this.rangesOf(user), DEFAULT_BLOCK_SIZE);
      this.allocator = allocator;
      return allocator;
    })();
    try {
      return await this.opening;
    } catch (err) {
      this.opening = undefined;
      throw err;
    }
  }

  private async rangesOf(user: RemapUser): Promise<[Awaited<ReturnType<typeof readUserRanges>>, Awaited<ReturnType<typeof readUserRanges>>]> {
    return [
      await readUserRanges(this.files.subuid, { name: user.name, uid: user.uid }, DEFAULT_BLOCK_SIZE),
      await readUserRanges(this.files.subgid, { name: user.group, uid: user.gid }, DEFAULT_BLOCK_SIZE),
    ];
  }

  /** Whether containers without --userns get a user namespace (daemon-wide --userns-remap). */
  get remapsByDefault(): boolean {
    return this.options.remap !== undefined;
  }

  /** Container create: the container's maps (allocated now), or undefined for the host's user namespace. */
  async allocate(containerId: string, host: UsernsHostConfig): Promise<IdMaps | undefined> {
    const mode = parseUsernsMode(host.UsernsMode) ?? (this.remapsByDefault ? { kind: 'remap' as const } : { kind: 'host' as const });
    if (mode.kind === 'host') return undefined;
    if (mode.kind === 'keep-id') {
      throw invalidArgument('USERNS_KEEP_ID_ROOTFUL', this.options.rootless
        ? '--userns=keep-id is not supported by this berthd yet'
        : '--userns=keep-id keeps the calling user\'s own uid inside and only means something with a rootless berthd; a rootful one runs containers as root: use --userns=auto for a private id range');
    }
    const allocator = await this.openAllocator();
    return await allocator.allocate(containerId, mode.size ?? DEFAULT_BLOCK_SIZE);
  }

  /** Container start: the maps allocated at create; undefined for a container in the host's user namespace. */
  mapsOf(containerId: string): IdMaps | undefined {
    const block = this.allocator?.inUse().get(containerId);
    if (!block) return undefined;
    return {
      uidMappings: [{ containerID: 0, hostID: block.uid, size: block.size }],
      gidMappings: [{ containerID: 0, hostID: block.gid, size: block.size }],
    };
  }

  async release(containerId: string): Promise<void> {
    await this.allocator?.release(containerId);
  }

  /** Daemon start: blocks of containers that are gone (a crash between rm and release) are freed. */
  async sweep(knownContainerIds: ReadonlySet<string>): Promise<void> {
    if (!this.allocator) return;
    for (const id of [...this.allocator.inUse().keys()]) if (!knownContainerIds.has(id)) await this.allocator.release(id);
  }

  /** docker info's SecurityOptions entry. */
  securityOptions(mechanism: string | undefined): string[] {
    const remap = this.options.remap !== undefined ? `,remap-user=${this.options.remap}` : '';
    return [`name=userns${remap}${mechanism ? `,layers=${mechanism}` : ''}`];
  }
}
