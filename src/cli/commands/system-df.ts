import { defineCommand } from '../command.js';
import { renderList, type ListSpec } from '../format/render.js';
import { humanSize } from '../format/units.js';

const DF_SPEC: ListSpec = {
  defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
  headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
  typeName: '*formatter.diskUsageImagesContext',
};

function reclaimable(amount: number, total: number): string {
  return total > 0 ? `${humanSize(amount, 4)} (${Math.trunc((amount * 100) / total)}%)` : humanSize(amount, 4);
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
    const du = await ctx.client().diskUsage();
    const images = du.Images ?? [];
    const containers = du.Containers ?? [];
    const volumes = du.Volumes ?? [];
    const cache = du.BuildCache ?? [];
    const imageSize = du.LayersSize ?? images.reduce((s, i) => s + i.Size, 0);
    const activeImages = images.filter((i) => (i.Containers ?? 0) > 0);
    const usedImages = activeImages.reduce((s, i) => s + i.Size - (i.SharedSize ?? 0), 0);
    const containerSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
    const running = containers.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting');
    const volumeSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
    const activeVolumes = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0);
    const cacheSize = cache.reduce((s, b) => s + b.Size, 0);
    const rows = [
      { Type: 'Images', TotalCount: String(images.length), Active: String(activeImages.length), Size: humanSize(imageSize, 4), Reclaimable: reclaimable(Math.max(0, imageSize - usedImages), imageSize) },
      { Type: 'Containers', TotalCount: String(containers.length), Active: String(running.length), Size: humanSize(containerSize, 4), Reclaimable: reclaimable(containers.filter((c) => !running.includes(c)).reduce((s, c) => s + (c.SizeRw ?? 0), 0), containerSize) },
      { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(activeVolumes.length), Size: humanSize(volumeSize, 4), Reclaimable: reclaimable(volumes.filter((v) => !activeVolumes.includes(v)).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0), volumeSize) },
      { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(cacheSize, 4), Reclaimable: humanSize(cache.filter((b) => !b.InUse && b.Shared !== true).reduce((s, b) => s + b.Size, 0), 4) },
    ];
    ctx.out(renderList(rows, DF_SPEC, flags.str('format')));
  },
});
