// Container inspect and list in the Docker API's JSON shapes, and docker's list filters.
import { invalidArgument } from '../../errors/berth-error.js';
import type { ContainerRecord } from './record.js';
import { healthSuffix } from './health/state.js';

export type Filters = ReadonlyMap<string, readonly string[]>;

const LIST_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name',
  'network', 'publish', 'since', 'status', 'volume'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH_VALUES = ['starting', 'healthy', 'unhealthy', 'none'];

export interface InspectExtras {
  logPath: string;
  /** names and host paths of the container's volumes (absent: names only) */
  volumeOf?: VolumeOf;
  dir: string;
  networkSettings: object | undefined;
  sizeRw?: number;
}

export function emptyNetworkSettings(): object {
  return {
    Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: {},
  };
}

/**
 * A container without a live sandbox (created, exited, or --network none/host, which need none)
 * still lists the networks it is on, with empty endpoints, as dockerd does: tools read the keys.
 */
export function configuredNetworkSettings(record: ContainerRecord): object {
  const mode = record.HostConfig.NetworkMode ?? '';
  const names = new Set(Object.keys(record.NetworkingConfig?.EndpointsConfig ?? {}));
  if (!mode.startsWith('container:')) names.add(mode === '' || mode === 'default' ? 'bridge' : mode);
  const networks: Record<string, object> = {};
  for (const name of names) {
    networks[name] = {
      IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
      IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
    };
  }
  return { ...emptyNetworkSettings(), Networks: networks };
}

export function inspectJson(record: ContainerRecord, extras: InspectExtras): Record<string, unknown> {
  const { ManuallyStopped: _m, CgroupsPath: _c, NetworkingConfig: _n, Runtime: _r, ...visible } = record;
  return {
    ...visible,
    ResolvConfPath: `${extras.dir}/resolv.conf`,
    HostnamePath: `${extras.dir}/hostname`,
    HostsPath: `${extras.dir}/hosts`,
    LogPath: record.HostConfig.LogConfig?.Type === 'none' ? '' : extras.logPath,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: record.ExecIDs.length > 0 ? record.ExecIDs : null,
    HostConfig: { ...record.HostConfig, Runtime: record.Runtime },
    GraphDriver: { Name: 'overlay2', Data: null },
    ...(extras.sizeRw === undefined ? {} : { SizeRw: extras.sizeRw }),
    Mounts: mountPoints(record, extras.volumeOf),
    NetworkSettings: extras.networkSettings ?? configuredNetworkSettings(record),
  };
}

/** A volume as inspect shows it: its name (anonymous ones have a generated one) and host path. */
export type VolumeOf = (containerId: string, name: string | undefined, destination: string) => { Name: string; Source: string };

const unresolvedVolume: VolumeOf = (_id, name) => ({ Name: name ?? '', Source: '' });

/** docker's Mounts: binds and volumes (-v, --mount, the image's VOLUMEs) and --mount tmpfs; --tmpfs is not listed. */
function mountPoints(record: ContainerRecord, volumeOf: VolumeOf = unresolvedVolume): object[] {
  const points: object[] = [];
  const taken = new Set<string>();
  const volume = (name: string | undefined, destination: string, mode: string, readOnly: boolean): object =>
    ({ Type: 'volume', ...volumeOf(record.Id, name, destination), Destination: destination, Driver: 'local', Mode: mode, RW: !readOnly, Propagation: '' });
  for (const bind of record.HostConfig.Binds ?? []) {
    const [source = '', destination = '', mode = ''] = bind.split(':');
    if (!source.startsWith('/')) {
      // a named volume (-v name:/dst, mode "z" as dockerd shows it) or an anonymous one (-v /dst)
      const named = bind.includes(':');
      const target = named ? destination : source;
      taken.add(target);
      points.push(volume(named ? source : undefined, target, named ? mode || 'z' : '', mode.split(',').includes('ro')));
      continue;
    }
    taken.add(destination);
    points.push({ Type: 'bind', Source: source, Destination: destination, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate' });
  }
  for (const m of record.HostConfig.Mounts ?? []) {
    taken.add(m.Target);
    if (m.Type === 'volume') {
      points.push(volume(m.Source || undefined, m.Target, 'z', m.ReadOnly === true));
      continue;
    }
    points.push({ Type: m.Type, Source: m.Source ?? '', Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: m.Type === 'bind' ? 'rprivate' : '' });
  }
  for (const destination of Object.keys(record.HostConfig.Tmpfs ?? {})) taken.add(destination);
  for (const destination of Object.keys(record.Config.Volumes ?? {})) {
    if (!taken.has(destination)) points.push(volume(undefined, destination, '', false));
  }
  return points;
}

export function commandLine(record: ContainerRecord): string {
  return [record.Path, ...record.Args].join(' ');
}

export function listJson(record: ContainerRecord, networkSettings: object | undefined): Record<string, unknown> {
  const settings = (networkSettings ?? configuredNetworkSettings(record)) as { Networks?: object; Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
  return {
    Id: record.Id,
    Names: [record.Name],
    Image: record.Config.Image ?? record.Image,
    ImageID: record.Image,
    Command: commandLine(record),
    Created: Math.floor(Date.parse(record.Created) / 1000),
    Ports: portList(settings.Ports ?? {}),
    Labels: record.Config.Labels ?? {},
    State: record.State.Status,
    Status: statusText(record, Date.now()),
    HostConfig: { NetworkMode: record.HostConfig.NetworkMode ?? 'bridge' },
    NetworkSettings: { Networks: settings.Networks ?? {} },
    Mounts: mountPoints(record),
    // API 1.52+: "none" for containers without a check or not running
    Health: record.State.Running && record.State.Health
      ? { Status: record.State.Health.Status, FailingStreak: record.State.Health.FailingStreak } : { Status: 'none', FailingStreak: 0 },
  };
}

function portList(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>): object[] {
  const list: object[] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    const [port = '0', type = 'tcp'] = key.split('/');
    if (!bindings || bindings.length === 0) { list.push({ PrivatePort: Number(port), Type: type }); continue; }
    for (const b of bindings) list.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return list;
}

/** docker's human status: "Up 5 minutes", "Exited (0) 2 seconds ago", "Created" */
export function statusText(record: ContainerRecord, nowMs: number): string {
  const s = record.State;
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${humanDuration(nowMs - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) return `Up ${humanDuration(nowMs - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : healthSuffix(s.Health)}`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.StartedAt.startsWith('0001-')) return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(nowMs - Date.parse(s.FinishedAt))} ago`;
}

/** go-units HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.round(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.round(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.round(hours / 24 / 30)} months`;
  return `${Math.round(hours / 24 / 365)} years`;
}

export interface ListOptions {
  all: boolean;
  limit?: number;
  filters: Filters;
  /** resolves before/since references to records */
  resolve: (idOrName: string) => ContainerRecord;
  /** image references for `ancestor` -> image ids */
  ancestorIds: (ref: string) => string | undefined;
}

export function filterContainers(records: ContainerRecord[], options: ListOptions): ContainerRecord[] {
  const f = options.filters;
  for (const key of f.keys()) if (!LIST_FILTERS.includes(key)) throw invalidArgument('BAD_FILTERS', `invalid filter '${key}'`);
  for (const status of f.get('status') ?? []) {
    if (!STATUSES.includes(status)) throw invalidArgument('BAD_FILTERS', `invalid filter 'status=${status}'`);
  }
  for (const health of f.get('health') ?? []) {
    if (!HEALTH_VALUES.includes(health)) throw invalidArgument('BAD_FILTERS', `Unrecognised filter value for health: ${health}`);
  }
  const created = (r: ContainerRecord): number => Date.parse(r.Created);
  const before = f.get('before')?.map((ref) => created(options.resolve(ref)));
  const since = f.get('since')?.map((ref) => created(options.resolve(ref)));
  const ancestors = f.get('ancestor')?.map((ref) => options.ancestorIds(ref) ?? ref);
  const all = options.all || options.limit !== undefined && options.limit > 0 || before !== undefined || since !== undefined
    || f.has('status') || f.has('exited');
  const any = (key: string, test: (value: string) => boolean): boolean => {
    const values = f.get(key);
    return values === undefined || values.length === 0 || values.some(test);
  };
  let list = records
    .filter((r) => all || r.State.Running || r.State.Restarting)
    .filter((r) => any('id', (v) => r.Id.startsWith(v))
      && any('name', (v) => new RegExp(v).test(r.Name.slice(1)) || r.Name === v)
      && any('status', (v) => r.State.Status === v)
      && any('exited', (v) => !r.State.Running && r.State.Status === 'exited' && String(r.State.ExitCode) === v)
      && (f.get('label') ?? []).every((v) => {
        const eq = v.indexOf('=');
        const labels = r.Config.Labels ?? {};
        return eq < 0 ? labels[v] !== undefined : labels[v.slice(0, eq)] === v.slice(eq + 1);
      })
      && any('ancestor', (v) => (ancestors ?? []).includes(v) ? (r.Image === v || r.Config.Image === v || r.Image.replace('sha256:', '').startsWith(v.replace('sha256:', ''))) : false)
      && any('expose', (v) => Object.keys(r.Config.ExposedPorts ?? {}).some((p) => p === v || p === `${v}/tcp`))
      && any('publish', (v) => Object.keys(r.HostConfig.PortBindings ?? {}).some((p) => p === v || p === `${v}/tcp`))
      && any('network', (v) => r.HostConfig.NetworkMode === v)
      && any('volume', (v) => (r.HostConfig.Binds ?? []).some((b) => b.split(':').includes(v)))
      && any('is-task', (v) => v === 'false')
      && any('health', (v) => (r.State.Health?.Status ?? 'none') === v)
      && any('isolation', (v) => v === 'default' || v === ''))
    .filter((r) => (before ?? []).every((t) => created(r) < t) && (since ?? []).every((t) => created(r) > t))
    .sort((a, b) => created(b) - created(a));
  if (options.limit !== undefined && options.limit > 0) list = list.slice(0, options.limit);
  return list;
}
