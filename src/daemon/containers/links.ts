// Legacy `--link name:alias` on the default bridge (HostConfig.Links): which running containers
// a container links to, and the environment docker gives it for each (ALIAS_PORT_..., ALIAS_NAME,
// ALIAS_ENV_...). The /etc/hosts entries are the networks service's part.
import { z } from 'zod';
import { conflict, invalidArgument } from '../../errors/berth-error.js';
import type { ContainerRecord } from './record.js';

export interface LinkTarget {
  /** the linked container's name, without the leading slash */
  name: string;
  alias: string;
  containerId: string;
}

export interface ResolvedLinks {
  links: LinkTarget[];
  env: string[];
}

/** "db", "db:database", or the normalized "/db:/web/database" that inspect shows */
export function parseLink(spec: string): { name: string; alias: string } {
  const [rawName = '', rawAlias, ...rest] = spec.split(':');
  const name = rawName.replace(/^\//, '');
  const alias = (rawAlias ?? name).split('/').pop() ?? '';
  if (rest.length > 0 || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(alias)) {
    throw invalidArgument('INVALID_LINK', `invalid link "${spec}": expected name or name:alias`);
  }
  return { name, alias };
}

interface PortKey {
  port: number;
  proto: string;
}

function exposedPorts(child: ContainerRecord): PortKey[] {
  const keys = new Set([...Object.keys(child.Config.ExposedPorts ?? {}), ...Object.keys(child.HostConfig.PortBindings ?? {})]);
  const ports: PortKey[] = [];
  for (const key of keys) {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (/^\d+$/.test(port)) ports.push({ port: Number(port), proto: proto.toLowerCase() });
  }
  // by number, tcp first on a tie: the first one is the link's default port, as docker picks it
  return ports.sort((a, b) => a.port - b.port || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : 0));
}

/** The variables docker's links.Link.ToEnv() gives for one link (port ranges not folded). */
export function linkEnv(parentName: string, alias: string, child: ContainerRecord, childIp: string): string[] {
  const prefix = alias.toUpperCase().replace(/-/g, '_');
  const env: string[] = [];
  const ports = exposedPorts(child);
  const first = ports[0];
  if (first) env.push(`${prefix}_PORT=${first.proto}://${childIp}:${first.port}`);
  for (const p of ports) {
    const key = `${prefix}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${key}=${p.proto}://${childIp}:${p.port}`, `${key}_ADDR=${childIp}`, `${key}_PORT=${p.port}`, `${key}_PROTO=${p.proto}`);
  }
  env.push(`${prefix}_NAME=/${parentName.replace(/^\//, '')}/${alias}`);
  for (const entry of child.Config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    // docker leaves out the two that every image build sets
    if (name === 'HOME' || name === 'PATH') continue;
    env.push(`${prefix}_ENV_${name}=${entry.slice(eq + 1)}`);
  }
  return env;
}

const bridgeSettingsSchema = z.object({ IPAddress: z.string() }).passthrough();

/**
 * The containers a record links to, each running with an address on the default bridge
 * (read from its sandbox's NetworkSettings), and the environment for them.
 */
export function resolveLinks(record: ContainerRecord, lookup: (ref: string) => ContainerRecord,
  settingsOf: (containerId: string) => object | undefined): ResolvedLinks {
  const out: ResolvedLinks = { links: [], env: [] };
  for (const spec of record.HostConfig.Links ?? []) {
    const { name, alias } = parseLink(spec);
    const child = lookup(name);
    if (!child.State.Running) {
      throw conflict('LINK_TARGET_NOT_RUNNING', `cannot link to a non running container: /${name} AS ${record.Name}/${alias}`);
    }
    const settings = bridgeSettingsSchema.safeParse(settingsOf(child.Id));
    const ip = settings.success ? settings.data.IPAddress : '';
    if (ip === '') throw conflict('LINK_TARGET_NOT_ON_BRIDGE', `cannot link to /${name}, as it does not belong to the default network`);
    out.links.push({ name: child.Name.replace(/^\//, ''), alias, containerId: child.Id });
    out.env.push(...linkEnv(record.Name, alias, child, ip));
  }
  return out;
}
