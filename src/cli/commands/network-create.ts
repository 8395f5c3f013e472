import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { listOption } from '../options.js';

function keyValues(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((kv) => { const eq = kv.indexOf('='); return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)]; }));
}

export default defineCommand({
  usage: '[OPTIONS] NETWORK',
  description: 'Create a network',
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('--attachable', 'Enable manual container attachment')
      .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge');
    listOption(cmd, '--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet');
    cmd.option('--internal', 'Restrict external access to the network');
    listOption(cmd, '--ip-range <strings>', 'Allocate container ip from a sub-range');
    cmd.option('--ipv6', 'Enable or disable IPv6 networking');
    listOption(cmd, '--label <list>', 'Set metadata on a network');
    listOption(cmd, '-o, --opt <map>', 'Set driver specific options');
    listOption(cmd, '--subnet <strings>', 'Subnet in CIDR format that represents a network segment');
  },
  async run(ctx, [name = ''], flags) {
    const subnets = flags.list('subnet');
    const gateways = flags.list('gateway');
    const ranges = flags.list('ip-range');
    if (gateways.length > subnets.length) throw new UsageError('every ip-range or gateway must have a corresponding subnet', 1, false);
    const config = subnets.map((subnet, i) => ({ Subnet: subnet, Gateway: gateways[i], IPRange: ranges[i] }));
    const created = await ctx.client().createNetwork({
      Name: name, Driver: flags.str('driver'), Internal: flags.bool('internal'), Attachable: flags.bool('attachable'),
      EnableIPv6: flags.bool('ipv6'), Labels: keyValues(flags.list('label')), Options: keyValues(flags.list('opt')),
      IPAM: { Driver: 'default', Config: config, Options: {} }, CheckDuplicate: true,
    });
    ctx.out(`${created.Id}\n`);
  },
});
