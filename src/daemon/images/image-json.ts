// Docker Engine API shapes for images (ImageSummary, ImageInspect, HistoryResponseItem,
// ImageDeleteResponseItem), built from berth's records and the image config.
import { shortDigest, type Digest } from '../../oci/digest.js';
import type { ContainerConfig, History, ImageConfig } from '../../oci/image.js';

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  ContainerConfig: ContainerConfig | null;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export function createdSeconds(config: ImageConfig): number {
  const ms = config.created !== undefined ? Date.parse(config.created) : Number.NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export interface ImageFacts {
  id: Digest;
  parent?: Digest;
  config: ImageConfig;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  lastTagTime?: number;
  graphDriver: { Name: string; Data: Record<string, string> | null };
  containers?: number;
}

export function toSummary(f: ImageFacts): ImageSummary {
  return {
    Id: f.id,
    ParentId: f.parent ?? '',
    RepoTags: f.repoTags,
    RepoDigests: f.repoDigests,
    Created: createdSeconds(f.config),
    Size: f.size,
    SharedSize: -1,
    VirtualSize: f.size,
    Labels: f.config.config?.Labels ?? {},
    Containers: f.containers ?? -1,
  };
}

export function toInspect(f: ImageFacts): ImageInspect {
  const c = f.config;
  const extra = c as Record<string, unknown>;
  const text = (key: string): string => (typeof extra[key] === 'string' ? extra[key] : '');
  const inspect: ImageInspect = {
    Id: f.id,
    RepoTags: f.repoTags,
    RepoDigests: f.repoDigests,
    Parent: f.parent ?? '',
    Comment: text('comment'),
    Created: c.created ?? new Date(0).toISOString(),
    Container: text('container'),
    ContainerConfig: null,
    DockerVersion: text('docker_version'),
    Author: c.author ?? '',
    Config: c.config ?? null,
    Architecture: c.architecture,
    Os: c.os,
    Size: f.size,
    VirtualSize: f.size,
    GraphDriver: f.graphDriver,
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: f.lastTagTime !== undefined ? new Date(f.lastTagTime).toISOString() : '0001-01-01T00:00:00Z' },
  };
  if (c.variant !== undefined) inspect.Variant = c.variant;
  if (c['os.version'] !== undefined) inspect.OsVersion = c['os.version'];
  return inspect;
}

/**
 * `docker history`: one row per history entry, newest first. Rows with layers carry the
 * layer size; the top row carries the image ID, others `<missing>` (as for pulled images).
 */
export function toHistory(f: ImageFacts, layerSizes: readonly number[]): HistoryItem[] {
  const history: History[] = f.config.history ?? f.config.rootfs.diff_ids.map(() => ({ created_by: '' }));
  let layer = 0;
  const rows: HistoryItem[] = history.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : layerSizes[layer] ?? 0;
    if (!empty) layer++;
    const created = h.created !== undefined ? Date.parse(h.created) : Number.NaN;
    return { Id: '<missing>', Created: Number.isNaN(created) ? 0 : Math.floor(created / 1000), CreatedBy: h.created_by ?? '',
      Tags: null, Size: size, Comment: h.comment ?? '' };
  });
  rows.reverse();
  if (rows[0] !== undefined) {
    rows[0].Id = f.id;
    rows[0].Tags = f.repoTags.length > 0 ? f.repoTags : null;
  }
  return rows;
}

export function shortId(id: Digest): string {
  return shortDigest(id);
}
