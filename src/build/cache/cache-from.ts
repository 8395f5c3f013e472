// `--cache-from`: images named there are cache sources even when they were pulled and have
// no parent chain in this store. A step hits, as in the classic builder (moby's
// daemon/images/cache.go), when a source image's history and layers start with the
// parent's and its next history entry was created by the same command; the parent plus
// that one entry (and its layer) is then stored as the step's image.
import { isDeepStrictEqual } from 'node:util';
import type { ContainerConfig, History, ImageConfig } from '../../oci/image.js';
import type { BuildImage } from '../backends.js';

export interface CacheSourceMatch {
  source: BuildImage;
  /** index of the matching entry in the source's history */
  index: number;
  /** the entry is the source's last: the step's image is the source image itself */
  last: boolean;
}

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null)) as unknown;

/** The source's history and layers start with the parent's (an empty parent fits every source). */
export function isValidParent(source: ImageConfig, parent: ImageConfig | undefined): boolean {
  const history = source.history ?? [];
  if (history.length === 0) return false;
  const parentHistory = parent?.history ?? [];
  const parentLayers = parent?.rootfs.diff_ids ?? [];
  if (parentHistory.length === 0 && parentLayers.length === 0) return true;
  if (parentHistory.length >= history.length || parentLayers.length > source.rootfs.diff_ids.length) return false;
  return parentHistory.every((h, i) => isDeepStrictEqual(plain(h), plain(history[i])))
    && parentLayers.every((d, i) => d === source.rootfs.diff_ids[i]);
}

/** The first source whose next history entry after the parent's was created by `createdBy`. */
export function matchCacheSource(parent: ImageConfig | undefined, createdBy: string, sources: readonly BuildImage[]): CacheSourceMatch | undefined {
  const index = parent?.history?.length ?? 0;
  for (const source of sources) {
    const entry = source.config.history?.[index];
    if (!entry || entry.created_by !== createdBy || !isValidParent(source.config, parent)) continue;
    return { source, index, last: index === (source.config.history?.length ?? 0) - 1 };
  }
  return undefined;
}

/** The layer (diff ID) a history entry added, or undefined for an empty-layer entry. */
export function layerOfHistoryEntry(image: ImageConfig, index: number): ImageConfig['rootfs']['diff_ids'][number] | undefined {
  const history: History[] = image.history ?? [];
  if (history[index]?.empty_layer) return undefined;
  const before = history.slice(0, index).filter((h) => !h.empty_layer).length;
  return image.rootfs.diff_ids[before];
}

/** The step's image rebuilt from the parent and the source's matching entry. */
export function restoredConfig(parent: ImageConfig, stepConfig: ContainerConfig, match: CacheSourceMatch): ImageConfig {
  const source = match.source.config;
  const entry = source.history?.[match.index];
  const layer = layerOfHistoryEntry(source, match.index);
  return {
    ...parent,
    architecture: source.architecture,
    os: source.os,
    ...(source.author ? { author: source.author } : {}),
    ...(entry?.created ? { created: entry.created } : {}),
    config: stepConfig,
    rootfs: { type: 'layers', diff_ids: layer ? [...parent.rootfs.diff_ids, layer] : [...parent.rootfs.diff_ids] },
    history: [...(parent.history ?? []), ...(entry ? [entry] : [])],
  };
}
