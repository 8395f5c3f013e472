// `docker network connect/disconnect` from the container's side: a running container gets the
// endpoint now and its /etc/hosts and /etc/resolv.conf rewritten in place (they are bind-mounted
// files); every container keeps the network in its NetworkingConfig, so it is joined again at
// the next start, as docker does.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, conflict, invalidArgument, notFound } from '../../errors/berth-error.js';
import type { ContainerRecord } from './record.js';
import type { SandboxResult } from './ports.js';

/** What connect/disconnect need of the networks service. */
export interface NetworkAttachments {
  resolve(idOrName: string): Promise<{ id: string; name: string; driver: string }>;
  connect(containerId: string, network: string, config: Record<string, unknown>): Promise<SandboxResult>;
  disconnect(containerId: string, network: string, force: boolean): Promise<SandboxResult | undefined>;
}

/** What they need of the container service: the record under its lock, and saving it. */
export interface AttachableContainers {
  withRecord<T>(idOrName: string, work: (record: ContainerRecord) => Promise<T>): Promise<T>;
  save(record: ContainerRecord): Promise<void>;
  dir(containerId: string): string;
}

type Endpoints = Record<string, Record<string, unknown> | null>;

function endpointsOf(record: ContainerRecord): Endpoints {
  return { ...(record.NetworkingConfig?.EndpointsConfig ?? {}) };
}

function withEndpoints(record: ContainerRecord, endpoints: Endpoints): ContainerRecord {
  return { ...record, NetworkingConfig: { ...(record.NetworkingConfig ?? {}), EndpointsConfig: endpoints } };
}

function primaryNetwork(record: ContainerRecord): string {
  const mode = record.HostConfig.NetworkMode ?? '';
  return mode === '' || mode === 'default' ? 'bridge' : mode;
}

/** In place: the container sees the new content through its bind mounts. */
async function rewriteEtcFiles(dir: string, sandbox: SandboxResult): Promise<void> {
  await writeFile(path.join(dir, 'hosts'), sandbox.hostsContent);
  await writeFile(path.join(dir, 'resolv.conf'), sandbox.resolvConfContent);
}

export async function connectContainer(containers: AttachableContainers, networks: NetworkAttachments,
  networkRef: string, containerRef: string, config: Record<string, unknown>): Promise<void> {
  const network = await networks.resolve(networkRef);
  await containers.withRecord(containerRef, async (record) => {
    const mode = primaryNetwork(record);
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || network.driver !== 'bridge') {
      throw new BerthError('forbidden', 'CONNECT_REFUSED',
        `container ${record.Id.slice(0, 12)} (network mode ${mode}) cannot be connected to network ${network.name}`);
    }
    const endpoints = endpointsOf(record);
    const joined = [mode, ...Object.keys(endpoints)];
    if (joined.includes(network.name) || joined.includes(network.id)) {
      throw conflict('ENDPOINT_EXISTS', `endpoint with name ${record.Name.replace(/^\//, '')} already exists in network ${network.name}`);
    }
    if (record.State.Running) await rewriteEtcFiles(containers.dir(record.Id), await networks.connect(record.Id, network.id, config));
    await containers.save(withEndpoints(record, { ...endpoints, [network.name]: config }));
  });
}

export async function disconnectContainer(containers: AttachableContainers, networks: NetworkAttachments,
  networkRef: string, containerRef: string, force: boolean): Promise<void> {
  const network = await networks.resolve(networkRef).catch((err: unknown) => {
    if (force) return { id: networkRef, name: networkRef, driver: '' };
    throw err;
  });
  await containers.withRecord(containerRef, async (record) => {
    const endpoints = endpointsOf(record);
    const keys = Object.keys(endpoints).filter((k) => k === network.name || k === network.id);
    const primary = primaryNetwork(record) === network.name || primaryNetwork(record) === network.id;
    if (record.State.Running) {
      const sandbox = await networks.disconnect(record.Id, network.id, force);
      if (sandbox) await rewriteEtcFiles(containers.dir(record.Id), sandbox);
    } else if (keys.length === 0 && !primary) {
      throw notFound('NOT_CONNECTED', `container ${record.Id.slice(0, 12)} is not connected to network ${network.name}`);
    }
    if (primary && !record.State.Running) {
      throw invalidArgument('DISCONNECT_PRIMARY', `container ${record.Id.slice(0, 12)} is not running: its network mode ${network.name} stays`);
    }
    for (const key of keys) delete endpoints[key];
    await containers.save(withEndpoints(record, endpoints));
  });
}
