// system check, storage side: blobs and unpacked layers no image, lease or snapshot reaches
// (what GC would remove), writable snapshots no container owns, and state records that were
// found corrupt and set aside (reported for a human, never removed).
import { setAsideEntries } from '../../util/set-aside.js';
import { probe, type CheckProbe, type Finding } from './check.js';

export interface StoreCheckSources {
  /** the mark phase of GC: what nothing references */
  garbage(): Promise<{ blobs: Array<{ digest: string; size: number }>; layers: Array<{ chainId: string; size: number }> }>;
  removeBlob(digest: string): Promise<void>;
  removeLayer(chainId: string): Promise<void>;
  snapshotKeys(): Promise<string[]>;
  removeSnapshot(key: string): Promise<void>;
  /** a container record exists for the id (or was set aside: its root is kept) */
  ownsSnapshot(key: string): boolean;
  /** builds in progress keep their berth-build-* snapshots */
  buildsRunning(): number;
  /** directories where set-aside records may lie */
  recordDirs(): Promise<string[]>;
}

export function storeProbes(src: StoreCheckSources): CheckProbe[] {
  return [
    // snapshots first: a leaked snapshot keeps its layers referenced until it is gone
    probe('snapshots', async () => {
      const keys = await src.snapshotKeys();
      const building = src.buildsRunning() > 0;
      return keys.filter((key) => !src.ownsSnapshot(key) && !(building && key.startsWith('berth-build-'))).map((key): Finding => ({
        kind: 'snapshot', resource: key,
        detail: key.startsWith('berth-build-') ? 'build snapshot left by a build that ended' : 'container writable layer with no container record',
        repair: async () => { if (!src.ownsSnapshot(key)) await src.removeSnapshot(key); },
      }));
    }),
    probe('content', async () => {
      const garbage = await src.garbage();
      return [
        ...garbage.blobs.map((b): Finding => ({ kind: 'blob', resource: b.digest, detail: `${b.size} bytes no image, lease or snapshot references`,
          repair: () => src.removeBlob(b.digest) })),
        ...garbage.layers.map((l): Finding => ({ kind: 'layer', resource: l.chainId, detail: `unpacked layer (${l.size} bytes) no image or snapshot uses`,
          repair: () => src.removeLayer(l.chainId) })),
      ];
    }),
    probe('records', async () => {
      const out: Finding[] = [];
      for (const dir of await src.recordDirs()) {
        for (const entry of await setAsideEntries(dir)) {
          out.push({ kind: 'corrupt-record', resource: entry, detail: 'state record found corrupt at startup and set aside; inspect it, then delete it by hand' });
        }
      }
      return out;
    }),
  ];
}
