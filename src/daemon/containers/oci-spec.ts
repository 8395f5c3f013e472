// A container record -> the OCI config.json dockerd would hand to runc for the same
// flags: process, default mounts and capabilities, masked paths, seccomp, namespaces,
// cgroup resources, plus the bind mounts of /etc/{hosts,hostname,resolv.conf}.
import { invalidArgument, BerthError } from '../../errors/berth-error.js';
import type { LinuxSeccomp, Mount, Spec } from '../../oci/runtime-spec.js';
import { commandList, type HostConfig, type MountRequest } from './create-request.js';
import type { ContainerRecord } from './record.js';
import type { ContainerDevices } from './devices.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE,
  defaultDeviceRules, defaultMounts, grantableCapabilities } from './oci-defaults.js';
import { toLinuxResources, toRlimits } from './resources.js';
import type { ResolvedUser } from './user.js';
import { applyShmMode, namespaceList, type SharedNamespaces } from './namespace-modes.js';

export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

export interface SpecInputs {
  record: ContainerRecord;
  rootfs: string;
  user: ResolvedUser;
  /** the network namespace to join; null = the host's; undefined = a new empty one */
  netnsPath: string | null | undefined;
  /** host files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf */
  etcFiles: { hosts: string; hostname: string; resolvConf: string } | undefined;
  /** host path of a static init (tini) for HostConfig.Init */
  initBinary: string | undefined;
  /** Docker's default seccomp profile for a container with these capabilities */
  defaultSeccomp: (capabilities: readonly string[]) => LinuxSeccomp | undefined;
  /** a profile given with --security-opt seccomp=<file> (its JSON), converted by the caller */
  convertSeccomp: (json: string, capabilities: readonly string[]) => LinuxSeccomp;
  cgroupsPath: string;
  /** --pid/--ipc/--uts host or container:X, resolved at start; absent: all private */
  shared?: SharedNamespaces;
  /**
   * dockerd's network sysctls: 'all' (default); 'no-ping' when berthd runs in a user namespace, whose
   * unmapped gids ping_group_range cannot name; 'none' for a container with a user namespace of its own,
   * which may not write the sysctls of the network namespace berthd made for it
   */
  networkSysctls?: 'all' | 'no-ping' | 'none';
  /** --device, --device-cgroup-rule and --privileged's host devices (devices.ts); absent: none */
  devices?: ContainerDevices;
}

/** The command line Docker runs: Entrypoint + Cmd, with an init in front for --init. */
export function containerArgs(record: ContainerRecord, init: boolean): string[] {
  const args = [...(commandList(record.Config.Entrypoint) ?? []), ...(commandList(record.Config.Cmd) ?? [])];
  return init ? [INIT_PATH_IN_CONTAINER, '--', ...args] : args;
}

export function buildSpec(inputs: SpecInputs): Spec {
  const { record } = inputs;
  const host = record.HostConfig;
  const privileged = host.Privileged === true;
  const args = containerArgs(record, host.Init === true);
  if (args.length === 0) throw invalidArgument('NO_COMMAND', 'no command specified');
  const caps = capabilities(privileged, host.CapAdd ?? [], host.CapDrop ?? []);
  const security = parseSecurityOpts(host.SecurityOpt ?? [], inputs, caps);
  const shm = host.ShmSize && host.ShmSize > 0 ? host.ShmSize : DEFAULT_SHM_SIZE;
  const resources = { ...toLinuxResources(host),
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [...defaultDeviceRules(), ...inputs.devices?.rules ?? []] };
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: record.Config.Tty === true,
      user: { uid: inputs.user.uid, gid: inputs.user.gid, additionalGids: inputs.user.additionalGids },
      args,
      env: containerEnv(record, inputs.user),
      cwd: record.Config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(toRlimits(host).length > 0 ? { rlimits: toRlimits(host) } : {}),
      noNewPrivileges: security.noNewPrivileges,
      oomScoreAdj: host.OomScoreAdj ?? 0,
    },
    root: { path: inputs.rootfs, readonly: host.ReadonlyRootfs === true },
    // --uts host: the host's own hostname, which a container may not set
    hostname: inputs.shared?.uts === null ? '' : record.Config.Hostname ?? '',
    ...(record.Config.Domainname && inputs.shared?.uts !== null ? { domainname: record.Config.Domainname } : {}),
    mounts: [...applyShmMode(defaultMounts(shm, privileged), inputs.shared ?? {}), ...etcMounts(inputs), ...initMounts(inputs), ...userMounts(record.HostConfig)],
    linux: {
      namespaces: namespaceList(host, inputs.shared ?? {}, inputs.netnsPath),
      cgroupsPath: inputs.cgroupsPath,
      ...(inputs.devices && inputs.devices.devices.length > 0 ? { devices: inputs.devices.devices } : {}),
      resources,
      ...withSysctls({ ...defaultNetworkSysctls(host, inputs), ...host.Sysctls }),
      ...(privileged ? {} : {
        maskedPaths: host.MaskedPaths ?? DEFAULT_MASKED_PATHS,
        readonlyPaths: host.ReadonlyPaths ?? DEFAULT_READONLY_PATHS,
      }),
      ...(privileged || security.seccomp === undefined ? {} : { seccomp: security.seccomp }),
    },
  };
}

/**
 * What dockerd sets in a network namespace of the container's own (not --network host or
 * container:X): binding ports below 1024 and ICMP echo sockets need no capability there.
 * The container's --sysctl values win.
 */
function defaultNetworkSysctls(host: ContainerRecord['HostConfig'], inputs: SpecInputs): Record<string, string> {
  const mode = host.NetworkMode ?? '';
  const which = inputs.networkSysctls ?? 'all';
  if (mode === 'host' || mode.startsWith('container:') || inputs.netnsPath === null || which === 'none') return {};
  return {
    ...(which === 'no-ping' ? {} : { 'net.ipv4.ping_group_range': '0 2147483647' }),
    'net.ipv4.ip_unprivileged_port_start': '0',
  };
}

function withSysctls(sysctl: Record<string, string>): { sysctl?: Record<string, string> } {
  return Object.keys(sysctl).length > 0 ? { sysctl } : {};
}

function containerEnv(record: ContainerRecord, user: ResolvedUser): string[] {
  const env = new Map<string, string>();
  const put = (entry: string): void => { const eq = entry.indexOf('='); env.set(eq < 0 ? entry : entry.slice(0, eq), entry); };
  put(DEFAULT_PATH_ENV);
  put(`HOSTNAME=${record.Config.Hostname ?? ''}`);
  if (record.Config.Tty) put('TERM=xterm');
  for (const entry of record.Config.Env ?? []) put(entry);
  if (!env.has('HOME')) put(`HOME=${user.home || '/'}`);
  return [...env.values()];
}

function normalizeCap(name: string): string {
  const upper = name.toUpperCase();
  return upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

export function capabilities(privileged: boolean, add: readonly string[], drop: readonly string[]): string[] {
  const grantable = grantableCapabilities();
  if (privileged) return grantable;
  const adds = add.map(normalizeCap);
  const drops = drop.map(normalizeCap);
  for (const cap of [...adds, ...drops]) {
    if (cap !== 'ALL' && !(grantable.includes(cap) || DEFAULT_CAPABILITIES.includes(cap as typeof DEFAULT_CAPABILITIES[number]))) {
      throw invalidArgument('UNKNOWN_CAPABILITY', `unknown capability: "${cap}"`);
    }
  }
  let caps: string[] = drops.includes('ALL') ? [] : [...DEFAULT_CAPABILITIES];
  caps = caps.filter((c) => !drops.includes(c));
  if (adds.includes('ALL')) caps = grantable.filter((c) => !drops.includes(c));
  for (const cap of adds) if (cap !== 'ALL' && !caps.includes(cap)) caps.push(cap);
  return caps.filter((c) => grantable.includes(c));
}

interface SecurityChoices { noNewPrivileges: boolean; seccomp: LinuxSeccomp | undefined }

function parseSecurityOpts(opts: readonly string[], inputs: SpecInputs, caps: readonly string[]): SecurityChoices {
  const choices: SecurityChoices = { noNewPrivileges: false, seccomp: undefined };
  let seccompChosen = false;
  for (const opt of opts) {
    const [key = '', value = ''] = splitOnce(opt, /[=:]/);
    if (key === 'no-new-privileges') {
      if (!['', 'true', 'false'].includes(value)) throw invalidArgument('BAD_SECURITY_OPT', `invalid --security-opt: ${opt}`);
      choices.noNewPrivileges = value !== 'false';
    } else if (key === 'seccomp') {
      choices.seccomp = value === 'unconfined' ? undefined : inputs.convertSeccomp(value, caps);
      seccompChosen = true;
    } else if (key === 'apparmor' || key === 'label' || key === 'systempaths') {
      // no AppArmor or SELinux here; systempaths=unconfined is honoured below
      if (key === 'systempaths' && value !== 'unconfined') throw invalidArgument('BAD_SECURITY_OPT', `invalid --security-opt: ${opt}`);
    } else {
      throw invalidArgument('BAD_SECURITY_OPT', `invalid --security-opt: ${opt}`);
    }
  }
  if (!seccompChosen) choices.seccomp = inputs.defaultSeccomp(caps);
  return choices;
}

function splitOnce(text: string, sep: RegExp): [string, string] {
  const match = sep.exec(text);
  if (!match) return [text, ''];
  return [text.slice(0, match.index), text.slice(match.index + 1)];
}

function etcMounts(inputs: SpecInputs): Mount[] {
  if (!inputs.etcFiles) return [];
  // read-only with the root (--read-only), as dockerd mounts them
  const options = inputs.record.HostConfig.ReadonlyRootfs === true ? ['rbind', 'ro', 'rprivate'] : ['rbind', 'rprivate'];
  const bind = (source: string, destination: string): Mount => ({ destination, type: 'bind', source, options: [...options] });
  return [
    bind(inputs.etcFiles.resolvConf, '/etc/resolv.conf'),
    bind(inputs.etcFiles.hostname, '/etc/hostname'),
    bind(inputs.etcFiles.hosts, '/etc/hosts'),
  ];
}

function initMounts(inputs: SpecInputs): Mount[] {
  if (inputs.record.HostConfig.Init !== true) return [];
  if (!inputs.initBinary) throw new BerthError('unavailable', 'NO_INIT', 'no init binary available for --init', { hint: 'install tini' });
  return [{ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: inputs.initBinary, options: ['bind', 'ro'] }];
}

/** -v host:ctr[:opts], --mount type=bind|tmpfs, --tmpfs; sorted by destination depth as docker does */
export function userMounts(host: HostConfig): Mount[] {
  const mounts: Mount[] = [];
  for (const bind of host.Binds ?? []) mounts.push(parseBind(bind));
  for (const m of host.Mounts ?? []) mounts.push(fromMountRequest(m));
  for (const [destination, options] of Object.entries(host.Tmpfs ?? {})) {
    mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...splitOptions(options)] });
  }
  const destinations = new Set<string>();
  for (const m of mounts) {
    if (!m.destination.startsWith('/')) throw invalidArgument('BAD_MOUNT', `invalid mount config: mount path must be absolute: ${m.destination}`);
    if (destinations.has(m.destination)) throw invalidArgument('DUPLICATE_MOUNT', `Duplicate mount point: ${m.destination}`);
    destinations.add(m.destination);
  }
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

function splitOptions(options: string): string[] {
  return options.split(',').map((o) => o.trim()).filter(Boolean);
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

function parseBind(spec: string): Mount {
  const parts = spec.split(':');
  // `-v /dst`: an anonymous volume; the volumes service rewrites it to a host path at start
  if (parts.length === 1 && spec.startsWith('/')) return { destination: spec, type: 'bind', source: '', options: ['rbind', 'rw', 'rprivate'] };
  const [source = '', destination = '', options = ''] = parts;
  if (parts.length < 2 || parts.length > 3 || destination === '') throw invalidArgument('BAD_BIND', `invalid volume specification: '${spec}'`);
  if (!source.startsWith('/') && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) {
    throw invalidArgument('BAD_VOLUME_NAME', `invalid volume specification: '${spec}': "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  }
  const opts = splitOptions(options);
  const propagation = opts.find((o) => PROPAGATIONS.includes(o)) ?? 'rprivate';
  for (const o of opts) {
    // U (podman): chown the source to the container's user at start (user-namespace.ts); idmap (podman):
    // an idmapped mount through the container's user namespace maps (runtime/idmapped-mounts.ts)
    if (!['ro', 'rw', 'z', 'Z', 'U', 'idmap', 'nocopy', ...PROPAGATIONS].includes(o)) throw invalidArgument('BAD_BIND', `invalid mode: ${o} in '${spec}'`);
  }
  return { destination, type: 'bind', source, options: ['rbind', opts.includes('ro') ? 'ro' : 'rw', propagation, ...(opts.includes('idmap') ? ['ridmap'] : [])] };
}

function fromMountRequest(m: MountRequest): Mount {
  if (m.Type === 'bind') {
    if (!m.Source?.startsWith('/')) throw invalidArgument('BAD_MOUNT', `invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
    const propagation = m.BindOptions?.Propagation || 'rprivate';
    return { destination: m.Target, type: 'bind', source: m.Source,
      options: [m.BindOptions?.NonRecursive ? 'bind' : 'rbind', m.ReadOnly ? 'ro' : 'rw', propagation] };
  }
  if (m.Type === 'tmpfs') {
    const options = ['nosuid', 'nodev', 'noexec'];
    if (m.TmpfsOptions?.SizeBytes) options.push(`size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) options.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
    if (m.ReadOnly) options.push('ro');
    return { destination: m.Target, type: 'tmpfs', source: 'tmpfs', options };
  }
  // a named or anonymous volume; the volumes service rewrites it to a host bind at start
  if (m.Type === 'volume') return { destination: m.Target, type: 'bind', source: m.Source ?? '', options: ['rbind', m.ReadOnly ? 'ro' : 'rw', 'rprivate'] };
  throw new BerthError('not_implemented', 'MOUNT_TYPE', `mount type ${m.Type} for ${m.Target} is not supported yet`);
}
