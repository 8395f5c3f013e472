// berthd's command line, with dockerd's flag names.
import { Command, Option } from 'commander';
import type { DaemonConfig } from './config.js';

export interface ParsedFlags {
  config: DaemonConfig;
  configFile: string | undefined;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function parseFlags(argv: readonly string[]): ParsedFlags {
  const program = new Command('berthd')
    .description('berth daemon: serves the Docker Engine API')
    .option('-H, --host <address>', 'daemon socket(s) to listen on: unix:///path or tcp://host:port (repeatable)', collect)
    .option('--data-root <dir>', 'root of persistent state (default /var/lib/berth)')
    .option('--exec-root <dir>', 'root of runtime state (default /run/berth)')
    .option('-p, --pidfile <file>', 'path of the daemon pid file')
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'fatal']))
    .option('-D, --debug', 'same as --log-level debug')
    .option('--default-runtime <name>', 'runtime for containers that do not name one (berth, runc, crun)')
    .option('--add-runtime <name=path>', 'register an OCI runtime binary (repeatable)', collect)
    .option('--bip <cidr>', 'address and subnet of the default bridge')
    .option('--cgroup-parent <path>', 'parent cgroup of containers (default /berth)')
    .option('--config-file <file>', 'daemon config file (default /etc/berth/daemon.json)')
    .option('--tls', 'use TLS on tcp listeners')
    .option('--tlsverify', 'use TLS and verify clients')
    .option('--tlscacert <file>', 'CA certificate clients must be signed by')
    .option('--tlscert <file>', 'server certificate')
    .option('--tlskey <file>', 'server key')
    .option('--insecure-registry <host>', 'registry reachable over plain HTTP (repeatable)', collect)
    .option('--log-opt <key=value>', 'default log driver options, e.g. max-size=10m (repeatable)', collect)
    .option('-s, --storage-driver <driver>', 'overlay or native')
    .option('-G, --group <name>', 'group owning the unix socket (default berth)')
    .option('--mtu <bytes>', 'MTU of the default bridge')
    .option('--userns-remap <user>', 'every container gets a user namespace with subordinate ids of this user: default (berthremap) or USER[:GROUP]')
    .option('--subuid-file <file>', 'subordinate uid ranges for user namespaces (default /etc/subuid)')
    .option('--subgid-file <file>', 'subordinate gid ranges for user namespaces (default /etc/subgid)')
    .option('--publish-behind-host-firewall', 'traffic from other hosts reaches published ports through a userland proxy, so the host INPUT firewall applies')
    .allowExcessArguments(false)
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const o = program.opts<Record<string, unknown>>();
  const str = (key: string): string | undefined => (typeof o[key] === 'string' ? o[key] : undefined);
  const list = (key: string): string[] | undefined => (Array.isArray(o[key]) ? (o[key] as string[]) : undefined);
  const config: DaemonConfig = {};
  const set = <K extends keyof DaemonConfig>(key: K, value: DaemonConfig[K] | undefined): void => { if (value !== undefined) config[key] = value; };
  set('hosts', list('host'));
  set('data-root', str('dataRoot'));
  set('exec-root', str('execRoot'));
  set('pidfile', str('pidfile'));
  set('log-level', o['debug'] ? 'debug' : str('logLevel') as DaemonConfig['log-level']);
  set('default-runtime', str('defaultRuntime'));
  const runtimes = list('addRuntime');
  if (runtimes) {
    config.runtimes = Object.fromEntries(runtimes.map((r) => {
      const eq = r.indexOf('=');
      if (eq <= 0) throw new Error(`invalid --add-runtime ${r}: use name=path`);
      return [r.slice(0, eq), { path: r.slice(eq + 1) }];
    }));
  }
  set('bip', str('bip'));
  set('cgroup-parent', str('cgroupParent'));
  if (o['tls']) config.tls = true;
  if (o['tlsverify']) config.tlsverify = true;
  set('tlscacert', str('tlscacert'));
  set('tlscert', str('tlscert'));
  set('tlskey', str('tlskey'));
  set('insecure-registries', list('insecureRegistry'));
  const logOpts = list('logOpt');
  if (logOpts) config['log-opts'] = Object.fromEntries(logOpts.map((kv) => [kv.split('=')[0] ?? kv, kv.slice(kv.indexOf('=') + 1)]));
  set('storage-driver', str('storageDriver') as DaemonConfig['storage-driver']);
  set('group', str('group'));
  const mtu = str('mtu');
  if (mtu !== undefined) config.mtu = Number(mtu);
  if (o['publishBehindHostFirewall']) config['publish-behind-host-firewall'] = true;
  set('userns-remap', str('usernsRemap'));
  set('subuid-file', str('subuidFile'));
  set('subgid-file', str('subgidFile'));
  return { config, configFile: str('configFile') };
}
