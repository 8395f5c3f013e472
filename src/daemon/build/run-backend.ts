// The builder's RunBackend over an OCI runtime: one short-lived container per RUN step on
// the step's writable root, with dockerd's default confinement (capabilities, masked
// paths, device rules), the stage's env/user/workdir, the step's mounts, and its output
// streamed back. The container and its bundle are removed whether the step succeeds or not.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Mount, Spec, LinuxNamespace } from '../../oci/runtime-spec.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { RunBackend, RunRequest } from '../../build/backends.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, defaultDeviceRules, defaultMounts } from '../containers/oci-defaults.js';
import { resolveUser } from '../containers/user.js';

/** A network for RUN --network=default: join the namespace it hands out, release after. */
export interface BuildNetwork {
  attach(containerId: string): Promise<{ netnsPath: string; resolvConf?: string; hosts?: string; release(): Promise<void> }>;
}

export interface RuntimeRunBackendOptions {
  runtime: Runtime;
  /** where bundles of build containers live, e.g. /run/berth/build */
  bundleRoot: string;
  /** cgroup parent; containers get `<parent>/berth-build-<id>` */
  cgroupParent: string;
  /** the bridge network; without one `default` uses the host's network, as `host` does */
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
  constructor(private readonly options: RuntimeRunBackendOptions) {}

  async run(request: RunRequest): Promise<{ exitCode: number }> {
    const id = `berth-build-${request.id.slice(0, 24)}`;
    const bundle = path.join(this.options.bundleRoot, id);
    const user = await resolveUser(request.root.path, request.user);
    const network = request.network === 'default' ? await this.options.network?.attach(id) : undefined;
    const namespaces: LinuxNamespace[] = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }];
    if (request.network === 'none') namespaces.push({ type: 'network' });
    if (network) namespaces.push({ type: 'network', path: network.netnsPath });
    const etc: Mount[] = [];
    if (network?.resolvConf) etc.push({ destination: '/etc/resolv.conf', type: 'bind', source: network.resolvConf, options: ['rbind', 'ro'] });
    if (network?.hosts) etc.push({ destination: '/etc/hosts', type: 'bind', source: network.hosts, options: ['rbind', 'ro'] });
    const spec: Spec = {
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
      hostname: request.id.slice(0, 12),
      mounts: [...defaultMounts(DEFAULT_SHM_SIZE, false), ...etc, ...runMounts(request)],
      linux: {
        namespaces,
        cgroupsPath: path.posix.join(this.options.cgroupParent, id),
        resources: { devices: defaultDeviceRules() },
        maskedPaths: DEFAULT_MASKED_PATHS,
        readonlyPaths: DEFAULT_READONLY_PATHS,
      },
    };
    // the workdir of the step exists (WORKDIR creates it); make it for RUN after a bare ENV too
    await mkdir(path.join(request.root.path, request.workingDir || '/'), { recursive: true });
    await mkdir(bundle, { recursive: true });
    try {
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const handle = await this.options.runtime.create(id, bundle, { stdio: 'pipe' });
      try {
        if (handle.io.kind === 'pipes') {
          handle.io.stdin.end();
          handle.io.stdout.on('data', (chunk: Buffer) => request.onOutput(chunk));
          handle.io.stderr.on('data', (chunk: Buffer) => request.onOutput(chunk));
        }
        await this.options.runtime.start(id);
        const status = await handle.exit;
        return { exitCode: status.exitCode };
      } finally {
        await this.options.runtime.delete(id, { force: true });
      }
    } finally {
      await rm(bundle, { recursive: true, force: true });
      await network?.release();
    }
  }
}
