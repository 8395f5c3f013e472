// Writes a container's OCI bundle for one run: /etc files from its network sandbox (or
// berth's own defaults), the working directory, the user resolved in the image, then
// config.json pointing at the mounted rootfs.
import { mkdir, readFile, writeFile, chown } from 'node:fs/promises';
import path from 'node:path';
import type { LinuxSeccomp, Spec } from '../../oci/runtime-spec.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { silentTimer, type PhaseTimer } from '../../util/phase-timer.js';
import { buildSpec } from './oci-spec.js';
import type { SharedNamespaces } from './namespace-modes.js';
import type { MountRequest } from './create-request.js';
import type { SandboxProvider, SandboxResult } from './ports.js';
import type { ResolvedLinks } from './links.js';
import type { ContainerRecord } from './record.js';
import { resolveInRoot } from './root-path.js';
import { lookupUser, readUserDatabase, type UserDatabase } from './user.js';
import { containerDevices } from './devices.js';
import type { IdMaps } from '../../sys/idmap.js';
import { chownBindSources, chownedBindSources, mappedIds, prepareUsernsFiles, withUserNamespace } from './user-namespace.js';

export interface BundleOptions {
  initBinary: string | undefined;
  defaultSeccomp: (capabilities: readonly string[]) => LinuxSeccomp | undefined;
  convertSeccomp: (json: string, capabilities: readonly string[]) => LinuxSeccomp;
  cgroupsPath: string;
  /** --pid/--ipc/--uts sharing, resolved by the service at start */
  shared?: SharedNamespaces;
  /** the container's user namespace maps (--userns=auto|remap); absent: the host's user namespace */
  idmap?: IdMaps;
  /**
   * the caller writes config.json (writeBundleSpec) while a runtime that takes the spec from
   * memory creates the container; default: written here, before prepareBundle returns
   */
  specWrittenByCaller?: boolean;
  /** berthd itself runs in a user namespace (rootless) */
  daemonInUserNamespace?: boolean;
  /** named/anonymous volumes and --volumes-from -> host binds (the volumes service); absent: binds only */
  resolveVolumes?: (record: ContainerRecord, rootfs: string) => Promise<{ Binds: string[]; Mounts: MountRequest[] }>;
  /** legacy --link: the targets (for /etc/hosts) and the environment they give */
  links?: ResolvedLinks;
  /** the root's /etc/passwd and /etc/group (the service's per-image copy); default: read from rootfs */
  readUsers?: (rootfs: string) => Promise<UserDatabase>;
  /** the host's /etc/resolv.conf (the networks service keeps it while unchanged); default: read it */
  hostResolvConf?: () => Promise<string>;
}

export async function prepareBundle(bundleDir: string, rootfs: string, record: ContainerRecord, containerDir: string,
  options: BundleOptions, networks: SandboxProvider | undefined, trace: PhaseTimer = silentTimer()): Promise<Spec> {
  // the network sandbox (netns, veth, addresses: the slow part) is made while the root is prepared
  const [root, joined] = await Promise.allSettled([
    trace.time('root', async () => {
      const [, users] = await Promise.all([
        mkdir(bundleDir, { recursive: true, mode: 0o700 }),
        (options.readUsers ?? readUserDatabase)(rootfs),
      ]);
      const resolved = lookupUser(users, record.Config.User ?? '', record.HostConfig.GroupAdd ?? []);
      const owner = mappedIds(options.idmap, resolved.uid, resolved.gid);
      await ensureWorkdir(rootfs, record.Config.WorkingDir || '/', owner.uid, owner.gid);
      return resolved;
    }),
    trace.time('network', () => joinNetwork(record, networks, options.links?.links, options.hostResolvConf)),
  ]);
  // both settled: a sandbox that was made exists in the service, so the caller's cleanup finds it
  if (root.status === 'rejected') throw root.reason;
  if (joined.status === 'rejected') throw joined.reason;
  const user = root.value;
  const sandbox = joined.value;
  trace.reset();
  const etcFiles = {
    hosts: path.join(containerDir, 'hosts'),
    hostname: path.join(containerDir, 'hostname'),
    resolvConf: path.join(containerDir, 'resolv.conf'),
  };
  // the spec names these files only: they are written while it is made (and awaited with the
  // bundle, before any runtime reads them)
  const etcWritten = Promise.all([
    writeFile(etcFiles.hosts, sandbox.hostsContent),
    writeFile(etcFiles.hostname, sandbox.hostnameContent),
    writeFile(etcFiles.resolvConf, sandbox.resolvConfContent),
  ]);
  // settled at once as well: a failure below must not leave it unhandled (it is awaited later)
  etcWritten.catch(() => undefined);
  const volumes = options.resolveVolumes ? await options.resolveVolumes(record, rootfs) : undefined;
  const host = record.HostConfig;
  const wantsDevices = host.Privileged === true || (host.Devices?.length ?? 0) > 0 || (host.DeviceCgroupRules?.length ?? 0) > 0;
  const devices = wantsDevices ? await containerDevices(host) : undefined;
  // link variables come first, so the container's own Env wins a clash (as docker orders them)
  const linkEnv = options.links?.env ?? [];
  const withLinks = linkEnv.length > 0 ? { ...record, Config: { ...record.Config, Env: [...linkEnv, ...(record.Config.Env ?? [])] } } : record;
  await chownBindSources(chownedBindSources(record.HostConfig), mappedIds(options.idmap, user.uid, user.gid));
  const built = buildSpec({
    record: volumes ? { ...withLinks, HostConfig: { ...record.HostConfig, ...volumes } } : withLinks, rootfs, user, netnsPath: sandbox.netnsPath, etcFiles, initBinary: options.initBinary,
    defaultSeccomp: options.defaultSeccomp, convertSeccomp: options.convertSeccomp, cgroupsPath: options.cgroupsPath,
    shared: options.shared, ...(devices ? { devices } : {}), networkSysctls: options.idmap ? 'none' : options.daemonInUserNamespace === true ? 'no-ping' : 'all',
  });
  const spec = options.idmap ? withUserNamespace(built, options.idmap) : built;
  if (options.idmap) {
    await etcWritten;   // chowned to the container's root next
    const binds = (spec.mounts ?? []).filter((m) => m.type === 'bind' && m.source).map((m) => m.source as string);
    await prepareUsernsFiles({ dataRoot: path.dirname(path.dirname(containerDir)), containerDir, etcFiles: Object.values(etcFiles), rootfs, bindSources: binds }, options.idmap);
  }
  trace.mark('spec');
  // the bundle is rewritten at every start and lives under the exec-root: rename suffices
  await Promise.all([options.specWrittenByCaller === true ? undefined : writeBundleSpec(bundleDir, spec), etcWritten]);
  trace.mark('bundle-write');
  // what config.json holds, for a runtime that takes it from memory instead of reading it back
  return spec;
}

/** The bundle's config.json (under the exec-root, rewritten at every start: rename suffices). */
export async function writeBundleSpec(bundleDir: string, spec: Spec): Promise<void> {
  await writeJsonAtomic(path.join(bundleDir, 'config.json'), spec, 0o600, { durable: false });
}

async function ensureWorkdir(rootfs: string, workdir: string, uid: number, gid: number): Promise<void> {
  if (workdir === '/') return;   // the root itself: the mount point exists
  const dir = await resolveInRoot(rootfs, workdir);
  await mkdir(dir, { recursive: true, mode: 0o755 }).then(async (created) => {
    if (created !== undefined && (uid !== 0 || gid !== 0)) await chown(dir, uid, gid).catch(() => undefined);
  });
}

/** The networks service when it is wired and the mode needs it; berth's defaults otherwise. */
type JoinedNetwork = Omit<SandboxResult, 'settings' | 'netnsPath'> & {
  /** null: the host's namespace; undefined: a new empty one */
  netnsPath: string | null | undefined;
};

async function joinNetwork(record: ContainerRecord, networks: SandboxProvider | undefined,
  links: ResolvedLinks['links'] | undefined, readHostResolvConf = async (): Promise<string> => await readFile('/etc/resolv.conf', 'utf8').catch(() => '')): Promise<JoinedNetwork> {
  const mode = record.HostConfig.NetworkMode || 'bridge';
  const hostname = record.Config.Hostname ?? record.Id.slice(0, 12);
  if (networks && mode !== 'none') {
    return await networks.createSandbox(record.Id, {
      name: record.Name.replace(/^\//, ''), hostname, domainname: record.Config.Domainname || undefined, networkMode: mode,
      endpoints: (record.NetworkingConfig?.EndpointsConfig ?? undefined) as Record<string, Record<string, unknown>> | undefined,
      portBindings: normalizePortBindings(record.HostConfig.PortBindings),
      publishAllPorts: record.HostConfig.PublishAllPorts ?? false,
      exposedPorts: record.Config.ExposedPorts ?? undefined,
      dns: record.HostConfig.Dns ?? undefined, dnsSearch: record.HostConfig.DnsSearch ?? undefined,
      dnsOptions: record.HostConfig.DnsOptions ?? undefined, extraHosts: record.HostConfig.ExtraHosts ?? undefined,
      ...(links && links.length > 0 ? { links } : {}),
    });
  }
  const host = mode === 'host';
  return {
    netnsPath: host ? null : undefined,
    hostsContent: host ? await readFile('/etc/hosts', 'utf8').catch(() => '')
      : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${mode === 'none' ? '' : `127.0.1.1\t${hostname}\n`}`,
    resolvConfContent: containerResolvConf(await readHostResolvConf()),
    hostnameContent: `${host ? (await readFile('/etc/hostname', 'utf8').catch(() => hostname)).trim() : hostname}\n`,
  };
}

function normalizePortBindings(bindings: ContainerRecord['HostConfig']['PortBindings']): Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined {
  if (!bindings) return undefined;
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const [port, list] of Object.entries(bindings)) out[port] = list ? list.map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' })) : null;
  return out;
}

/** The host's resolv.conf without loopback resolvers (unreachable from a container), as docker does. */
function containerResolvConf(text: string): string {
  const lines = text.split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1)/.test(line));
  if (!lines.some((line) => /^\s*nameserver\s/.test(line))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.join('\n').trim() + '\n';
}
