// berthd's settings: dockerd's flag names, also read from a JSON file (daemon.json) with
// the same keys. Flags given on the command line win over the file.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errnoCode, invalidArgument } from '../errors/berth-error.js';

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

/** Where state lives when neither a flag nor the file says (rootless berthd has its own). */
export interface PathDefaults {
  dataRoot: string;
  execRoot: string;
  configFile: string;
}

export const ROOTFUL_DEFAULTS: PathDefaults = { dataRoot: '/var/lib/berth', execRoot: '/run/berth', configFile: DEFAULT_CONFIG_FILE };

export const daemonConfigSchema = z.object({
  'hosts': z.array(z.string()).optional(),
  'data-root': z.string().optional(),
  'exec-root': z.string().optional(),
  'pidfile': z.string().optional(),
  'log-level': z.enum(['debug', 'info', 'warn', 'error', 'fatal']).optional(),
  'default-runtime': z.string().optional(),
  'runtimes': z.record(z.string(), z.object({ path: z.string() }).passthrough()).optional(),
  'bip': z.string().optional(),
  'cgroup-parent': z.string().optional(),
  'tls': z.boolean().optional(),
  'tlsverify': z.boolean().optional(),
  'tlscacert': z.string().optional(),
  'tlscert': z.string().optional(),
  'tlskey': z.string().optional(),
  'insecure-registries': z.array(z.string()).optional(),
  'log-opts': z.record(z.string(), z.string()).optional(),
  'storage-driver': z.enum(['overlay', 'overlay2', 'native', 'vfs']).optional(),
  'group': z.string().optional(),
  'mtu': z.number().int().positive().optional(),
  'publish-behind-host-firewall': z.boolean().optional(),
  'userns-remap': z.string().optional(),
  'subuid-file': z.string().optional(),
  'subgid-file': z.string().optional(),
  /** dockerd's key: builder.gc.defaultKeepStorage caps the build cache (LRU pruning after each build) */
  'builder': z.object({
    gc: z.object({ enabled: z.boolean().optional(), defaultKeepStorage: z.union([z.string(), z.number().int().nonnegative()]).optional() }).passthrough().optional(),
  }).passthrough().optional(),
}).strict();
export type DaemonConfig = z.infer<typeof daemonConfigSchema>;

export interface ResolvedConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  defaultRuntime: string;
  /** name -> binary path; "berth" is the built-in runtime */
  runtimes: Record<string, string>;
  bip: string | undefined;
  cgroupParent: string;
  tls: { verify: boolean; ca?: string; cert: string; key: string } | undefined;
  insecureRegistries: string[];
  logOpts: Record<string, string>;
  storageDriver: 'overlay' | 'native' | undefined;
  group: string;
  mtu: number | undefined;
  /** published ports answer other hosts through a userland proxy, behind the INPUT firewall */
  publishBehindHostFirewall: boolean;
  /** --userns-remap: default|USER[:GROUP]; undefined: containers use the host's user namespace unless --userns says */
  usernsRemap: string | undefined;
  subuidFile: string;
  subgidFile: string;
  /** build cache cap in bytes (builder.gc.defaultKeepStorage); undefined keeps the builder's default */
  buildCacheKeepBytes: number | undefined;
}

/** "20GB", "512MB", "1.5g", 1024: sizes as dockerd reads defaultKeepStorage (binary units). */
export function parseKeepStorage(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!match) throw invalidArgument('CONFIG_FILE', `invalid builder.gc.defaultKeepStorage ${JSON.stringify(value)}: not a size like 20GB`);
  const power = ' kmgtp'.indexOf((match[2] ?? '').toLowerCase() || ' ');
  return Math.floor(Number(match[1]) * 1024 ** power);
}

export async function loadConfigFile(file: string, explicit: boolean): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !explicit) return {};
    throw invalidArgument('CONFIG_FILE', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw invalidArgument('CONFIG_FILE', `config file ${file} is not valid json: ${(cause as Error).message}`);
  }
  const parsed = daemonConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArgument('CONFIG_FILE', `invalid config file ${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`);
  }
  return parsed.data;
}

function keepStorage(gc: { enabled?: boolean | undefined; defaultKeepStorage?: string | number | undefined } | undefined): number | undefined {
  if (gc?.defaultKeepStorage === undefined) return undefined;
  // gc off: the cache is never pruned by size
  return gc.enabled === false ? Number.MAX_SAFE_INTEGER : parseKeepStorage(gc.defaultKeepStorage);
}

/** Merge the file under the flags and fill in the defaults. */
export function resolveConfig(flags: DaemonConfig, file: DaemonConfig, defaults: PathDefaults = ROOTFUL_DEFAULTS): ResolvedConfig {
  const pick = <K extends keyof DaemonConfig>(key: K): DaemonConfig[K] => flags[key] ?? file[key];
  const dataRoot = pick('data-root') ?? defaults.dataRoot;
  const execRoot = pick('exec-root') ?? defaults.execRoot;
  const runtimes: Record<string, string> = { berth: 'berth', runc: '/usr/bin/runc', crun: '/usr/bin/crun' };
  for (const [name, value] of Object.entries({ ...(file.runtimes ?? {}), ...(flags.runtimes ?? {}) })) runtimes[name] = value.path;
  const defaultRuntime = pick('default-runtime') ?? 'berth';
  if (runtimes[defaultRuntime] === undefined) throw invalidArgument('UNKNOWN_RUNTIME', `default runtime ${defaultRuntime} is not configured`);
  const tlsverify = pick('tlsverify') ?? false;
  const tlsOn = tlsverify || (pick('tls') ?? false);
  const cert = pick('tlscert');
  const key = pick('tlskey');
  if (tlsOn && (!cert || !key)) throw invalidArgument('TLS_CONFIG', '--tls and --tlsverify need --tlscert and --tlskey');
  const ca = pick('tlscacert');
  if (tlsverify && !ca) throw invalidArgument('TLS_CONFIG', '--tlsverify needs --tlscacert');
  const driver = pick('storage-driver');
  return {
    hosts: pick('hosts') ?? [`unix://${execRoot}/berth.sock`],
    dataRoot, execRoot,
    pidfile: pick('pidfile') ?? `${execRoot}/berthd.pid`,
    logLevel: pick('log-level') ?? 'info',
    defaultRuntime, runtimes,
    bip: pick('bip'),
    cgroupParent: pick('cgroup-parent') ?? '/berth',
    tls: tlsOn && cert && key ? { verify: tlsverify, ...(ca ? { ca } : {}), cert, key } : undefined,
    insecureRegistries: pick('insecure-registries') ?? [],
    logOpts: { ...(file['log-opts'] ?? {}), ...(flags['log-opts'] ?? {}) },
    storageDriver: driver === undefined ? undefined : driver === 'native' || driver === 'vfs' ? 'native' : 'overlay',
    group: pick('group') ?? 'berth',
    mtu: pick('mtu'),
    publishBehindHostFirewall: pick('publish-behind-host-firewall') ?? false,
    usernsRemap: pick('userns-remap'),
    subuidFile: pick('subuid-file') ?? '/etc/subuid',
    subgidFile: pick('subgid-file') ?? '/etc/subgid',
    buildCacheKeepBytes: keepStorage(file.builder?.gc),
  };
}
