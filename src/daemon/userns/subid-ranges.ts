// Subordinate id ranges for --userns=remap|auto: /etc/subuid and /etc/subgid parsed as
// shadow-utils writes them, and per-container blocks allocated from the remap user's
// ranges without overlap, persisted atomically and freed when the container is removed.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';

export interface SubidRange { start: number; count: number }
/** one line of an OCI uidMappings/gidMappings list */
export interface IdMapping { containerID: number; hostID: number; size: number }
export interface ContainerIdMaps { uidMappings: IdMapping[]; gidMappings: IdMapping[] }

const MAX_ID = 2 ** 32 - 1;

/** "name-or-uid:start:count" lines; comments and blank lines skipped, anything else is an error naming the line. */
export function parseSubidFile(text: string, fileName: string): Map<string, SubidRange[]> {
  const byOwner = new Map<string, SubidRange[]>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([^:\s]+):(\d+):(\d+)$/.exec(line);
    const start = Number(match?.[2]);
    const count = Number(match?.[3]);
    if (!match || count === 0 || start + count - 1 > MAX_ID) {
      throw invalidArgument('BAD_SUBID_LINE', `${fileName} line ${index + 1}: "${line}" is not owner:start:count within 32-bit ids`);
    }
    const owner = match[1] as string;
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), { start, count }]);
  });
  return byOwner;
}

/** The ranges of a user, listed by name or by numeric uid as shadow-utils allows. */
export function rangesOf(entries: Map<string, SubidRange[]>, user: { name: string; uid: number }): SubidRange[] {
  return [...(entries.get(user.name) ?? []), ...(entries.get(String(user.uid)) ?? [])].sort((a, b) => a.start - b.start);
}

/** Reads /etc/subuid or /etc/subgid for a user; a missing file or entry, or a range too small, is a clear error. */
export async function readUserRanges(file: string, user: { name: string; uid: number }, blockSize: number): Promise<SubidRange[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalidArgument('NO_SUBID_FILE', `${file} does not exist: user namespace remapping needs subordinate ids for ${user.name}`);
    throw err;
  }
  const ranges = rangesOf(parseSubidFile(text, file), user);
  if (ranges.length === 0) {
    throw invalidArgument('NO_SUBID_RANGE', `${file} has no range for ${user.name}`, { hint: `usermod --add-subuids/--add-subgids for ${user.name}` });
  }
  if (!ranges.some((r) => r.count >= blockSize)) {
    throw invalidArgument('SUBID_RANGE_TOO_SMALL', `${file}: no range of ${user.name} holds ${blockSize} ids (largest ${Math.max(...ranges.map((r) => r.count))})`);
  }
  return ranges;
}

const allocationSchema = z.object({ uid: z.number().int().nonnegative(), gid: z.number().int().nonnegative(), size: z.number().int().positive() });
const stateSchema = z.object({ version: z.literal(1), allocations: z.record(z.string(), allocationSchema) });
type Allocation = z.infer<typeof allocationSchema>;

function overlapping(used: ReadonlyArray<{ start: number; size: number }>, start: number, size: number): { start: number; size: number } | undefined {
  return used.find((b) => b.start < start + size && start < b.start + b.size);
}

/** First host id of a free block of `size` ids in the ranges, skipping the blocks in use. */
export function firstFreeBlock(ranges: readonly SubidRange[], used: ReadonlyArray<{ start: number; size: number }>, size: number): number | undefined {
  for (const range of ranges) {
    let candidate = range.start;
    const end = range.start + range.count;
    // move past every block the candidate overlaps until none does
    for (let hit = overlapping(used, candidate, size); hit; hit = overlapping(used, candidate, size)) candidate = hit.start + hit.size;
    if (candidate + size <= end) return candidate;
  }
  return undefined;
}

/** Blocks of subordinate ids per container, disjoint, persisted in one JSON file. */
export class SubidAllocator {
  private allocations = new Map<string, Allocation>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly statePath: string, private readonly uidRanges: SubidRange[],
    private readonly gidRanges: SubidRange[], readonly blockSize: number) {}

  static async open(statePath: string, uidRanges: SubidRange[], gidRanges: SubidRange[], blockSize = 65536): Promise<SubidAllocator> {
    const allocator = new SubidAllocator(statePath, uidRanges, gidRanges, blockSize);
    let text: string | undefined;
    try {
      text = await readFile(statePath, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      let json: unknown;
      try { json = JSON.parse(text); } catch (err) {
        throw invalidArgument('BAD_SUBID_STATE', `${statePath}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const parsed = stateSchema.safeParse(json);
      if (!parsed.success) throw invalidArgument('BAD_SUBID_STATE', `${statePath}: not a berth subordinate id allocation file: ${parsed.error.message}`);
      allocator.allocations = new Map(Object.entries(parsed.data.allocations));
    }
    return allocator;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * An allocation is written durably: lost, a container would start without its user
   * namespace. A release need not be: a block still listed for a container that is gone is
   * freed by the daemon's start-up sweep, so the rename alone (no fsyncs) is enough.
   */
  private async persist(durable: boolean): Promise<void> {
    await writeJsonAtomic(this.statePath, { version: 1, allocations: Object.fromEntries(this.allocations) }, 0o600, { durable });
  }

  /** The container's maps: 0..size inside onto its own block; the same block again if it has one. */
  allocate(containerId: string, size = this.blockSize): Promise<ContainerIdMaps> {
    return this.serial(async () => {
      let block = this.allocations.get(containerId);
      if (!block) {
        const others = [...this.allocations.values()];
        const uid = firstFreeBlock(this.uidRanges, others.map((a) => ({ start: a.uid, size: a.size })), size);
        const gid = firstFreeBlock(this.gidRanges, others.map((a) => ({ start: a.gid, size: a.size })), size);
        if (uid === undefined || gid === undefined) {
          throw invalidArgument('SUBID_EXHAUSTED', `no free block of ${size} subordinate ${uid === undefined ? 'uids' : 'gids'} left for container ${containerId.slice(0, 12)} (${this.allocations.size} in use)`);
        }
        block = { uid, gid, size };
        this.allocations.set(containerId, block);
        await this.persist(true);
      }
      return { uidMappings: [{ containerID: 0, hostID: block.uid, size: block.size }], gidMappings: [{ containerID: 0, hostID: block.gid, size: block.size }] };
    });
  }

  release(containerId: string): Promise<void> {
    return this.serial(async () => {
      if (!this.allocations.delete(containerId)) return;
      await this.persist(false);
    });
  }

  inUse(): ReadonlyMap<string, Readonly<Allocation>> {
    return this.allocations;
  }
}
