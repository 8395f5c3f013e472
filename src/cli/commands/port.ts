import { arr, obj, opt, record, str } from '../../client/decode.js';
import { defineCommand } from '../command.js';
import { StatusExit } from '../errors.js';

const decodePorts = opt(record(opt(arr(obj({ HostIp: opt(str), HostPort: opt(str) })))));

export default defineCommand({
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  description: 'List port mappings or a specific mapping for the container',
  minArgs: 1,
  maxArgs: 2,
  async run(ctx, [container = '', wanted]) {
    const info = await ctx.client().inspectContainer(container);
    const ports = decodePorts(info.NetworkSettings?.Ports, 'NetworkSettings.Ports') ?? {};
    const want = wanted === undefined ? undefined : wanted.includes('/') ? wanted : `${wanted}/tcp`;
    const lines: string[] = [];
    const keys = Object.keys(ports).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const key of keys) {
      if (want !== undefined && key !== want) continue;
      for (const binding of ports[key] ?? []) {
        const ip = binding.HostIp ?? '';
        const host = `${ip.includes(':') ? `[${ip}]` : ip}:${binding.HostPort ?? ''}`;
        lines.push(want === undefined ? `${key} -> ${host}` : host);
      }
    }
    if (want !== undefined && lines.length === 0) throw new StatusExit(1, `Error: No public port '${want}' published for ${container}`);
    ctx.out(lines.map((l) => `${l}\n`).join(''));
  },
});
