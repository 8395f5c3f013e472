// `system df [-v]`: the summary table, or docker's four verbose tables (images with shared
// and unique sizes, containers, volumes, build cache) plus berth's own "other data" lines,
// so that every byte under the data root shows up somewhere.
import { decodeDiskUsageExtras, type BuildCacheItem } from '../../client/system.js';
import { decodeDiskUsage } from '../../client/types.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { containerRow, shortId } from '../format/containers.js';
import { IMAGE_SPEC, imageRows } from '../format/images.js';
import { renderList, type ListSpec } from '../format/render.js';
import { ago, humanSize } from '../format/units.js';

type DiskUsageAnswer = ReturnType<typeof decodeDiskUsage>;

const DF_SPEC: ListSpec = {
  defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
  headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
  typeName: '*formatter.diskUsageImagesContext',
};

const VERBOSE_IMAGES: ListSpec = { ...IMAGE_SPEC,
  defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}' };
const VERBOSE_CONTAINERS: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
  headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
  typeName: '*formatter.ContainerContext',
};
const VERBOSE_VOLUMES: ListSpec = {
  defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}',
  headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
  typeName: '*formatter.volumeContext',
};
const VERBOSE_CACHE: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
  headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
  typeName: '*formatter.buildCacheContext',
};
const VERBOSE_OTHER: ListSpec = {
  defaultFormat: 'table {{.Path}}\t{{.Size}}',
  headers: { Path: 'PATH', Size: 'SIZE' },
  typeName: '*berth.otherDataContext',
};

function reclaimable(amount: number, total: number): string {
  return total > 0 ? `${humanSize(amount, 4)} (${Math.trunc((amount * 100) / total)}%)` : humanSize(amount, 4);
}

function sinceIso(text: string | null | undefined, now: number): string {
  const ms = text ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? '' : ago(ms / 1000, now);
}

function summaryRows(du: DiskUsageAnswer, cache: readonly BuildCacheItem[]): Array<Record<string, string>> {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const imageSize = du.LayersSize ?? images.reduce((s, i) => s + i.Size, 0);
  const activeImages = images.filter((i) => (i.Containers ?? 0) > 0);
  // as docker's formatter: an image whose sizes are unknown (-1) counts as not in use
  const usedImages = activeImages.filter((i) => i.Size !== -1 && i.SharedSize !== -1)
    .reduce((s, i) => s + i.Size - (i.SharedSize ?? 0), 0);
  const containerSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const running = containers.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting');
  const volumeSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const activeVolumes = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0);
  const cacheSize = cache.reduce((s, b) => s + b.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(activeImages.length), Size: humanSize(imageSize, 4), Reclaimable: reclaimable(Math.max(0, imageSize - usedImages), imageSize) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(running.length), Size: humanSize(containerSize, 4), Reclaimable: reclaimable(containers.filter((c) => !running.includes(c)).reduce((s, c) => s + (c.SizeRw ?? 0), 0), containerSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(activeVolumes.length), Size: humanSize(volumeSize, 4), Reclaimable: reclaimable(volumes.filter((v) => !activeVolumes.includes(v)).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0), volumeSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(cacheSize, 4), Reclaimable: humanSize(cache.filter((b) => !b.InUse && b.Shared !== true).reduce((s, b) => s + b.Size, 0), 4) },
  ];
}

function printVerbose(ctx: CliContext, du: DiskUsageAnswer, extras: ReturnType<typeof decodeDiskUsageExtras>): void {
  const now = Date.now();
  ctx.out('Images space usage:\n\n');
  ctx.out(renderList((du.Images ?? []).flatMap((i) => imageRows(i, true, now)), VERBOSE_IMAGES, undefined));
  ctx.out('\nContainers space usage:\n\n');
  ctx.out(renderList((du.Containers ?? []).map((c) => containerRow(c, true, now)), VERBOSE_CONTAINERS, undefined));
  ctx.out('\nLocal Volumes space usage:\n\n');
  ctx.out(renderList((du.Volumes ?? []).map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0),
    Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A' })), VERBOSE_VOLUMES, undefined));
  ctx.out(`\nBuild cache usage: ${humanSize(extras.buildCache.reduce((s, b) => s + b.Size, 0))}\n\n`);
  ctx.out(renderList(extras.buildCache.map((b) => ({ ID: shortId(b.ID), CacheType: b.Type ?? '', Size: humanSize(b.Size),
    CreatedSince: sinceIso(b.CreatedAt, now), LastUsedSince: sinceIso(b.LastUsedAt, now), UsageCount: String(b.UsageCount ?? 0),
    Shared: String(b.Shared ?? false) })), VERBOSE_CACHE, undefined));
  if (extras.other.length > 0) {
    // berth: the rest of the data root (records, logs of no container, set-aside files)
    ctx.out('\nOther berth data:\n\n');
    ctx.out(renderList(extras.other.map((o) => ({ Path: o.Path, Size: humanSize(o.Size) })), VERBOSE_OTHER, undefined));
  }
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Show docker disk usage',
  maxArgs: 0,
  options(cmd) {
    cmd.option('--format <string>', 'Format output using a custom template')
      .option('-v, --verbose', 'Show detailed information on space usage');
  },
  async run(ctx, _args, flags) {
    const answer = await ctx.client().transport.json({ path: '/system/df' });
    const du = decodeDiskUsage(answer, '/system/df');
    const extras = decodeDiskUsageExtras(answer);
    if (flags.bool('verbose')) printVerbose(ctx, du, extras);
    else ctx.out(renderList(summaryRows(du, extras.buildCache), DF_SPEC, flags.str('format')));
  },
});
