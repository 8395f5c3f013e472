// The builder's RunBackend over an OCI runtime: one short-lived container per RUN step on
// the step's writable root, with dockerd's default confinement (capabilities, masked
// paths, device rules), the stage's env/user/workdir, the step's mounts, and its output
// streamed back. The container and its bundle are removed whether the step succeeds or not.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { BerthError, invalidArgument } from '../../errors/berth-error.js';
import path from 'node:path';
import type { Mount, Spec, LinuxNamespace } from '../../oci/runtime-spec.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { RunBackend, RunRequest } from '../../build/backends.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, defaultDeviceRules, defaultMounts } from '../containers/oci-defaults.js';
import { resolveUser } from '../containers/user.js';

/** A sandbox on the default bridge for one RUN step: its namespace and /etc files, released after. */
export interface BuildSandbox {
  netnsPath: string;
  /** content of the step's /etc/resolv.conf and /etc/hosts */
  resolvConf: string;
  hosts: string;
  release(): Promise<void>;
}

/** The network of RUN --network=default (the daemon wires the default bridge in). */
export interface BuildNetwork {
  /** `networkMode` is `bridge` or a user-defined bridge network's name or id */
  attach(containerId: string, hostname: string, networkMode: string): Promise<BuildSandbox>;
}

export interface RuntimeRunBackendOptions {
  runtime: Runtime;
  /** where bundles of build containers live, e.g. /run/berth/build */
  bundleRoot: string;
  /** cgroup parent; containers get `<parent>/berth-build-<id>` */
  cgroupParent: string;
  /** the bridge networks; without them `default` uses the host's network, as `host` does */
  network?: BuildNetwork;
}

function runMounts(request: RunRequest): Mount[] {
  return request.mounts.map((m): Mount => m.type === 'tmpfs'
    ? { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.sizeBytes ? [`size=${m.sizeBytes}`] : [])] }
    : { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw'] });
}

function withDefaultEnv(env: readonly string[], home: string): string[] {
  const out = [...env];
  if (!out.some((e) => e.startsWith('PATH='))) out.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${home || '/'}`);
  return out;
}

export class RuntimeRunBackend implements RunBackend {
  /** containers of RUN steps running now, so a daemon stop can end them */
  private readonly running = new Set<string>();
  private closing = false;

  constructor(private readonly options: RuntimeRunBackendOptions) {}

  /** Kill every RUN container still running (daemon shutdown); their builds then fail and clean up. */
  async killAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.running].map((id) => this.options.runtime.kill(id, 'SIGKILL', { all: true }).catch(() => undefined)));
  }

  async run(request: RunRequest): Promise<{ exitCode: number }> {
    const id = `berth-build-${request.id.slice(0, 24)}`;
    const bundle = path.join(this.options.bundleRoot, id);
    const hostname = request.id.slice(0, 12);
    const mode = request.network === 'default' ? 'bridge' : request.network;
    await mkdir(bundle, { recursive: true });
    let network: BuildSandbox | undefined;
    try {
      network = mode !== 'host' && mode !== 'none' ? await this.options.network?.attach(request.id, hostname, mode) : undefined;
      const spec = await this.spec(request, id, hostname, await networkFiles(bundle, mode, network));
      // the workdir of the step exists (WORKDIR creates it); make it for RUN after a bare ENV too
      await mkdir(path.join(request.root.path, request.workingDir || '/'), { recursive: true });
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      return await this.execute(id, bundle, request);
    } finally {
      await rm(bundle, { recursive: true, force: true });
      await network?.release();
    }
  }

  private async execute(id: string, bundle: string, request: RunRequest): Promise<{ exitCode: number }> {
    const handle = await this.options.runtime.create(id, bundle, { stdio: 'pipe' });
    this.running.add(id);
    try {
      // a stop that came while the container was being created: never start it
      if (this.closing) throw new BerthError('unavailable', 'BUILD_DAEMON_STOPPING', `build step ${id} not started: the daemon is shutting down`);
      if (handle.io.kind === 'pipes') {
        handle.io.stdin.end();
        handle.io.stdout.on('data', (chunk: Buffer) => request.onOutput(chunk));
        handle.io.stderr.on('data', (chunk: Buffer) => request.onOutput(chunk));
      }
      await this.options.runtime.start(id);
      const status = await handle.exit;
      return { exitCode: status.exitCode };
    } finally {
      this.running.delete(id);
      await this.options.runtime.delete(id, { force: true });
    }
  }

  private async spec(request: RunRequest, id: string, hostname: string, net: NetworkFiles): Promise<Spec> {
    const user = await resolveUser(request.root.path, request.user);
    return {
      ociVersion: '1.2.0',
      process: {
        terminal: false,
        user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
        args: request.args,
        env: withDefaultEnv(request.env, user.home),
        cwd: request.workingDir || '/',
        capabilities: { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] },
        noNewPrivileges: false,
      },
      root: { path: request.root.path, readonly: false },
      hostname,
      mounts: [...defaultMounts(DEFAULT_SHM_SIZE, false), ...net.mounts, ...runMounts(request)],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, ...net.namespaces],
        cgroupsPath: path.posix.join(this.options.cgroupParent, id),
        resources: { devices: defaultDeviceRules() },
        maskedPaths: DEFAULT_MASKED_PATHS,
        readonlyPaths: DEFAULT_READONLY_PATHS,
      },
    };
  }
}

interface NetworkFiles { namespaces: LinuxNamespace[]; mounts: Mount[] }

/** The step's network namespace and, on a bridge, its /etc/resolv.conf and /etc/hosts. */
async function networkFiles(bundle: string, mode: string, sandbox: BuildSandbox | undefined): Promise<NetworkFiles> {
  if (mode === 'none') return { namespaces: [{ type: 'network' }], mounts: [] };
  if (!sandbox) return { namespaces: [], mounts: [] };
  await writeFile(path.join(bundle, 'resolv.conf'), sandbox.resolvConf);
  await writeFile(path.join(bundle, 'hosts'), sandbox.hosts);
  return {
    namespaces: [{ type: 'network', path: sandbox.netnsPath }],
    mounts: ['resolv.conf', 'hosts'].map((name): Mount => ({ destination: `/etc/${name}`, type: 'bind', source: path.join(bundle, name), options: ['rbind', 'ro'] })),
  };
}

/** The part of the networks service a build needs (declared here; the daemon passes the service). */
export interface SandboxProvider {
  createSandbox(containerId: string, spec: { name: string; hostname: string; networkMode: string }):
    Promise<{ netnsPath: string | null; resolvConfContent: string; hostsContent: string }>;
  destroySandbox(containerId: string): Promise<void>;
}

/** RUN steps join a network through the same sandboxes containers get (veth, IPAM, NAT). */
export function sandboxBuildNetwork(provider: SandboxProvider): BuildNetwork {
  return {
    attach: async (containerId, hostname, networkMode) => {
      const info = await provider.createSandbox(containerId, { name: `berth-build-${containerId.slice(0, 12)}`, hostname, networkMode });
      const release = (): Promise<void> => provider.destroySandbox(containerId);
      if (info.netnsPath === null) {
        await release();
        throw invalidArgument('BUILD_BAD_NETWORK', `network ${networkMode} gives a build step no namespace of its own`);
      }
      return { netnsPath: info.netnsPath, resolvConf: info.resolvConfContent, hosts: info.hostsContent, release };
    },
  };
}
