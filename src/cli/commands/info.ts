import { obj, opt, num, str, arr, bool, unknownValue } from '../../client/decode.js';
import { CLI_VERSION } from '../app.js';
import { defineCommand } from '../command.js';
import { describeError } from '../errors.js';
import { renderOne } from '../format/render.js';
import { bytesSize } from '../format/units.js';

const decodeInfo = obj({
  Containers: opt(num), ContainersRunning: opt(num), ContainersPaused: opt(num), ContainersStopped: opt(num), Images: opt(num),
  ServerVersion: opt(str), Driver: opt(str), LoggingDriver: opt(str), CgroupDriver: opt(str), CgroupVersion: opt(str),
  KernelVersion: opt(str), OperatingSystem: opt(str), OSType: opt(str), Architecture: opt(str), NCPU: opt(num), MemTotal: opt(num),
  Name: opt(str), ID: opt(str), DockerRootDir: opt(str), Debug: opt(bool), Experimental: opt(bool), LiveRestoreEnabled: opt(bool),
  DefaultRuntime: opt(str), Runtimes: opt(unknownValue), SecurityOptions: opt(arr(str)), Warnings: opt(arr(str)),
  InitBinary: opt(str), Labels: opt(arr(str)),
});

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Display system-wide information',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
  },
  async run(ctx, _args, flags) {
    const clientInfo = { Version: CLI_VERSION, Context: 'default', Debug: false, Plugins: [], Warnings: null };
    const format = flags.str('format');
    let raw: unknown;
    try {
      raw = await ctx.client().info();
    } catch (err) {
      if (format !== undefined) throw err;
      ctx.out(`Client:\n Version:    ${CLI_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`);
      ctx.err(`${describeError(err)}\n`);
      return 1;
    }
    const info = decodeInfo(raw, 'info');
    if (format !== undefined) {
      ctx.out(renderOne({ ...info, ClientInfo: clientInfo }, format, 'system.dockerInfo'));
      return 0;
    }
    const runtimes = typeof info.Runtimes === 'object' && info.Runtimes !== null ? Object.keys(info.Runtimes).sort().join(' ') : '';
    const lines = [
      'Client:', ` Version:    ${CLI_VERSION}`, ' Context:    default', ' Debug Mode: false', '',
      'Server:',
      ` Containers: ${info.Containers ?? 0}`, `  Running: ${info.ContainersRunning ?? 0}`, `  Paused: ${info.ContainersPaused ?? 0}`, `  Stopped: ${info.ContainersStopped ?? 0}`,
      ` Images: ${info.Images ?? 0}`,
      ` Server Version: ${info.ServerVersion ?? ''}`,
      ` Storage Driver: ${info.Driver ?? ''}`,
      ` Logging Driver: ${info.LoggingDriver ?? ''}`,
      ` Cgroup Driver: ${info.CgroupDriver ?? ''}`,
      ` Cgroup Version: ${info.CgroupVersion ?? ''}`,
      ` Runtimes: ${runtimes}`,
      ` Default Runtime: ${info.DefaultRuntime ?? ''}`,
      ` Init Binary: ${info.InitBinary ?? ''}`,
      ...(info.SecurityOptions?.length ? [' Security Options:', ...info.SecurityOptions.map((o) => `  ${o.replace(/^name=/, '').split(',')[0] ?? o}`)] : []),
      ` Kernel Version: ${info.KernelVersion ?? ''}`,
      ` Operating System: ${info.OperatingSystem ?? ''}`,
      ` OSType: ${info.OSType ?? ''}`,
      ` Architecture: ${info.Architecture ?? ''}`,
      ` CPUs: ${info.NCPU ?? 0}`,
      ` Total Memory: ${bytesSize(info.MemTotal ?? 0)}`,
      ` Name: ${info.Name ?? ''}`,
      ` ID: ${info.ID ?? ''}`,
      ` Docker Root Dir: ${info.DockerRootDir ?? ''}`,
      ` Debug Mode: ${String(info.Debug ?? false)}`,
      ` Experimental: ${String(info.Experimental ?? false)}`,
      ` Live Restore Enabled: ${String(info.LiveRestoreEnabled ?? false)}`,
      '',
    ];
    ctx.out(`${lines.join('\n')}\n`);
    for (const warning of info.Warnings ?? []) ctx.err(`${warning}\n`);
    return 0;
  },
});
