// Persisted network state: one JSON file per network and one per sandbox (a running
// container's netns and endpoints, which are also the IPAM leases). Each write is atomic,
// so a kill -9 leaves either the old or the new record; files are validated on read.
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { setAside } from '../../util/set-aside.js';
import { errnoCode } from '../../errors/berth-error.js';

export const ipamEntrySchema = z.object({
  Subnet: z.string(),
  Gateway: z.string(),
  IPRange: z.string().optional(),
  AuxiliaryAddresses: z.record(z.string()).optional(),
});
export type IpamEntry = z.infer<typeof ipamEntrySchema>;

export const networkRecordSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string(),
  driver: z.enum(['bridge', 'host', 'null']),
  created: z.string(),
  internal: z.boolean(),
  attachable: z.boolean(),
  enableIPv6: z.boolean(),
  /** the kernel bridge (bridge driver only) */
  bridge: z.string().optional(),
  mtu: z.number().int(),
  masquerade: z.boolean(),
  /** the default network "bridge", "host" and "none" */
  predefined: z.boolean(),
  ipam: z.array(ipamEntrySchema),
  options: z.record(z.string()),
  labels: z.record(z.string()),
});
export type NetworkRecord = z.infer<typeof networkRecordSchema>;

export const endpointRecordSchema = z.object({
  id: z.string(),
  networkId: z.string(),
  hostIfName: z.string(),
  ifName: z.string(),
  mac: z.string(),
  /** "172.18.0.2/16" */
  ipv4: z.string().optional(),
  gateway4: z.string().optional(),
  ipv6: z.string().optional(),
  gateway6: z.string().optional(),
  aliases: z.array(z.string()),
  links: z.array(z.string()),
  requestedIPv4: z.string().optional(),
  requestedIPv6: z.string().optional(),
});
export type EndpointRecord = z.infer<typeof endpointRecordSchema>;

export const publishedPortSchema = z.object({
  protocol: z.enum(['tcp', 'udp', 'sctp']),
  containerPort: z.number().int(),
  hostIp: z.string(),
  hostPort: z.number().int(),
  containerIp: z.string(),
  /** "kernel-dnat" or "userland-proxy" (external traffic in publishBehindHostFirewall mode) */
  path: z.string(),
});
export type PublishedPort = z.infer<typeof publishedPortSchema>;

export const sandboxRecordSchema = z.object({
  containerId: z.string(),
  sandboxId: z.string(),
  name: z.string(),
  hostname: z.string(),
  domainname: z.string().optional(),
  mode: z.enum(['bridge', 'host', 'none', 'container']),
  /** container mode: whose namespace is shared */
  sharedWith: z.string().optional(),
  netnsPath: z.string().nullable(),
  endpoints: z.array(endpointRecordSchema),
  ports: z.array(publishedPortSchema),
  /** ExposedPorts keys, so inspect lists unpublished ones as null */
  exposed: z.array(z.string()),
  hostsContent: z.string(),
  resolvConfContent: z.string(),
  /** the gateway whose embedded DNS 127.0.0.11 leads to (a user-defined network the container is on) */
  dnsGateway: z.string().optional(),
  /** --dns servers: the embedded DNS forwards this container's other queries to them */
  upstreams: z.array(z.string()).optional(),
});
export type SandboxRecord = z.infer<typeof sandboxRecordSchema>;

export class NetworkStore {
  private readonly networksDir: string;
  private readonly sandboxesDir: string;

  constructor(dataRoot: string) {
    this.networksDir = path.join(dataRoot, 'network', 'networks');
    this.sandboxesDir = path.join(dataRoot, 'network', 'sandboxes');
  }

  async loadNetworks(): Promise<NetworkRecord[]> {
    return await loadAll(this.networksDir, networkRecordSchema);
  }

  async loadSandboxes(): Promise<SandboxRecord[]> {
    return await loadAll(this.sandboxesDir, sandboxRecordSchema);
  }

  async saveNetwork(record: NetworkRecord): Promise<void> {
    await writeJsonAtomic(path.join(this.networksDir, `${record.id}.json`), record);
  }

  async deleteNetwork(id: string): Promise<void> {
    await unlinkIfExists(path.join(this.networksDir, `${id}.json`));
  }

  async saveSandbox(record: SandboxRecord): Promise<void> {
    // atomic but not fsynced (two fsyncs on every container start): a sandbox describes kernel
    // state (a netns, veths, leases and ports of a running container) that a power loss ends
    // too, and after one no container is running, so every sandbox is released at start
    // anyway; a kill -9 of berthd leaves the page cache, so the renamed file is there
    await writeJsonAtomic(path.join(this.sandboxesDir, `${record.containerId}.json`), record, 0o644, { durable: false });
  }

  async deleteSandbox(containerId: string): Promise<void> {
    await unlinkIfExists(path.join(this.sandboxesDir, `${containerId}.json`));
  }
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Reads every *.json of dir; a corrupt file is set aside (and reported) rather than fatal. */
async function loadAll<T>(dir: string, schema: z.ZodType<T>): Promise<T[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: T[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const text = await readFile(path.join(dir, name), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const moved = await setAside(path.join(dir, name)).catch(() => undefined);
      process.emitWarning(`berth: ignoring corrupt network state file ${path.join(dir, name)}${moved ? `, set aside as ${moved}` : ''}`);
      continue;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) {
      out.push(parsed.data);
      continue;
    }
    const moved = await setAside(path.join(dir, name)).catch(() => undefined);
    process.emitWarning(`berth: ignoring invalid network state file ${path.join(dir, name)}${moved ? `, set aside as ${moved}` : ''}: ${parsed.error.message}`);
  }
  return out;
}
