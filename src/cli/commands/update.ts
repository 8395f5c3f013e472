import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { floatOption, intOption, sizeOption } from '../options.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Update configuration of one or more containers',
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    intOption(cmd, '-c, --cpu-shares <int>', 'CPU shares (relative weight)');
    floatOption(cmd, '--cpus <decimal>', 'Number of CPUs');
    cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
    sizeOption(cmd, '-m, --memory <bytes>', 'Memory limit');
    sizeOption(cmd, '--memory-reservation <bytes>', 'Memory soft limit');
    cmd.option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap");
    intOption(cmd, '--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
    cmd.option('--restart <string>', 'Restart policy to apply when a container exits');
  },
  async run(ctx, args, flags) {
    const cpus = flags.num('cpus');
    const restart = flags.str('restart');
    const swap = flags.str('memory-swap');
    const update: Record<string, unknown> = {
      CpuShares: flags.num('cpu-shares'), NanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9),
      CpusetCpus: flags.str('cpuset-cpus'), Memory: flags.num('memory'), MemoryReservation: flags.num('memory-reservation'),
      MemorySwap: swap === undefined ? undefined : swap === '-1' ? -1 : undefined, PidsLimit: flags.num('pids-limit'),
    };
    if (restart !== undefined) {
      const [name = '', count] = restart.split(':');
      update.RestartPolicy = { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
    }
    if (Object.values(update).every((v) => v === undefined)) throw new UsageError('you must provide one or more flags when using this command', 1, false);
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => {
      const result = await client.updateContainer(target, update);
      if (typeof result === 'object' && result !== null && 'Warnings' in result && Array.isArray(result.Warnings)) {
        for (const warning of result.Warnings) ctx.err(`${String(warning)}\n`);
      }
    });
  },
});
