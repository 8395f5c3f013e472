// `system prune`: the prune calls the docker CLI makes, in its order (containers, networks,
// volumes with --volumes, images, build cache), each report printed as docker prints it,
// then the total.
import { pruneBuildCache } from '../../client/system.js';
import { pruneVolumes } from '../../client/volumes.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { UsageError } from '../errors.js';
import { listOption } from '../options.js';
import { deletedList, imagePruneLines, totalReclaimed } from '../prune-report.js';
import { parseFilters } from './ps.js';

type Filters = Record<string, string[]>;

/** One prune call: the lines it prints ('' for nothing removed) and the bytes it freed. */
interface PruneStep {
  output: string;
  reclaimed: number;
}

export function pruneWarning(all: boolean, volumes: boolean): string {
  return ['WARNING! This will remove:', '  - all stopped containers', '  - all networks not used by at least one container',
    ...(volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
    all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    all ? '  - all build cache' : '  - unused build cache', ''].join('\n');
}

async function pruneSteps(ctx: CliContext, filters: Filters, all: boolean, volumes: boolean): Promise<PruneStep[]> {
  const client = ctx.client();
  const steps: PruneStep[] = [];
  const containers = await client.pruneContainers(filters);
  steps.push({ output: deletedList('Deleted Containers', containers.ContainersDeleted ?? []), reclaimed: containers.SpaceReclaimed ?? 0 });
  const networks = await client.pruneNetworks(filters);
  steps.push({ output: deletedList('Deleted Networks', networks.NetworksDeleted ?? []), reclaimed: 0 });
  if (volumes) {
    const result = await pruneVolumes(client.transport, filters);
    steps.push({ output: deletedList('Deleted Volumes', result.VolumesDeleted), reclaimed: result.SpaceReclaimed });
  }
  const images = await client.pruneImages({ ...filters, dangling: [all ? 'false' : 'true'] });
  steps.push({ output: deletedList('Deleted Images', imagePruneLines(images.ImagesDeleted ?? [])), reclaimed: images.SpaceReclaimed ?? 0 });
  // build cache entries carry no labels: dockerd refuses a label filter there, so only until= goes
  const until = filters['until'];
  const cacheFilters: Filters = until === undefined ? {} : { until };
  const cache = await pruneBuildCache(client.transport, { all, filters: cacheFilters });
  steps.push({ output: deletedList('Deleted build cache objects', cache.CachesDeleted), reclaimed: cache.SpaceReclaimed });
  return steps;
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove unused data',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Remove all unused images not just dangling ones');
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation')
      .option('--volumes', 'Prune anonymous volumes');
  },
  async run(ctx, _args, flags) {
    const all = flags.bool('all');
    const volumes = flags.bool('volumes');
    const filters = parseFilters(flags.list('filter'));
    if (volumes && filters['until'] !== undefined) throw new UsageError('ERROR: The "until" filter is not supported with "--volumes"', 1, false);
    if (!flags.bool('force') && !(await confirm(ctx, pruneWarning(all, volumes)))) return 0;
    let reclaimed = 0;
    for (const step of await pruneSteps(ctx, filters, all, volumes)) {
      // docker prints each report followed by an empty line
      if (step.output !== '') ctx.out(`${step.output}\n`);
      reclaimed += step.reclaimed;
    }
    ctx.out(`${totalReclaimed(reclaimed)}\n`);
    return 0;
  },
});
