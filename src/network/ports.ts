// `-p [ip:][hostPort:]containerPort[/tcp|udp|sctp]` parsing (docker's nat.ParsePortSpec),
// and the expansion of HostConfig.PortBindings into concrete mappings. Pure functions, so
// the CLI, the API and the network service share one reading of the syntax.
import { isIP } from 'node:net';
import { invalidArgument } from '../errors/berth-error.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortBindingJson {
  HostIp: string;
  HostPort: string;
}

/** One published container port as the API carries it: key "80/tcp" plus one binding. */
export interface PublishSpec {
  /** "80/tcp" */
  port: string;
  binding: PortBindingJson;
}

/** A concrete mapping: host side resolved to a range (start == end for one port, 0 = any). */
export interface PortMapping {
  protocol: PortProtocol;
  containerPort: number;
  hostIp: string;
  hostPortStart: number;
  hostPortEnd: number;
}

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

export function parsePortNumber(text: string, what: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalidArgument('INVALID_PORT', `invalid ${what} "${text}" in port spec "${spec}"`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalidArgument('INVALID_PORT', `${what} ${port} out of range 1-65535 in port spec "${spec}"`);
  return port;
}

export function parsePortRange(text: string, what: string, spec: string): [number, number] {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const port = parsePortNumber(text, what, spec);
    return [port, port];
  }
  const start = parsePortNumber(text.slice(0, dash), what, spec);
  const end = parsePortNumber(text.slice(dash + 1), what, spec);
  if (end < start) throw invalidArgument('INVALID_PORT', `invalid ${what} range "${text}" in port spec "${spec}"`);
  return [start, end];
}

/** Splits "ip:host:container", taking care of "[::1]:80:80" and bare IPv6 ("::1:80:80" is ambiguous and rejected). */
function splitSpec(rest: string, spec: string): { ip: string; host: string; container: string } {
  let ip = '';
  let tail = rest;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw invalidArgument('INVALID_PORT_SPEC', `invalid IPv6 address in port spec "${spec}"`);
    ip = rest.slice(1, close);
    tail = rest.slice(close + 2);
    const parts = tail.split(':');
    if (parts.length !== 2) throw invalidArgument('INVALID_PORT_SPEC', `invalid port spec "${spec}"`);
    return { ip, host: parts[0] ?? '', container: parts[1] ?? '' };
  }
  const parts = tail.split(':');
  if (parts.length === 1) return { ip: '', host: '', container: parts[0] ?? '' };
  if (parts.length === 2) return { ip: '', host: parts[0] ?? '', container: parts[1] ?? '' };
  if (parts.length === 3) return { ip: parts[0] ?? '', host: parts[1] ?? '', container: parts[2] ?? '' };
  throw invalidArgument('INVALID_PORT_SPEC', `invalid port spec "${spec}": too many colons (write IPv6 addresses as [addr])`);
}

/**
 * Parses one `-p` value into API bindings, one per container port. A host range with a
 * single container port means "any one port of this range" and stays a range.
 */
export function parsePublishSpec(spec: string): PublishSpec[] {
  const trimmed = spec.trim();
  if (trimmed === '') throw invalidArgument('INVALID_PORT_SPEC', 'empty port spec');
  const slash = trimmed.lastIndexOf('/');
  let protocol = 'tcp';
  let rest = trimmed;
  if (slash >= 0 && !trimmed.slice(slash).includes(']')) {
    protocol = trimmed.slice(slash + 1).toLowerCase();
    rest = trimmed.slice(0, slash);
    if (!PROTOCOLS.includes(protocol)) throw invalidArgument('INVALID_PORT_SPEC', `invalid protocol "${protocol}" in port spec "${spec}"`);
  }
  const { ip, host, container } = splitSpec(rest, spec);
  if (ip !== '' && isIP(ip) === 0) throw invalidArgument('INVALID_PORT_SPEC', `invalid host ip "${ip}" in port spec "${spec}"`);
  if (container === '') throw invalidArgument('INVALID_PORT_SPEC', `no container port in port spec "${spec}"`);
  const [cStart, cEnd] = parsePortRange(container, 'container port', spec);
  const hostRange = host === '' ? undefined : parsePortRange(host, 'host port', spec);
  const count = cEnd - cStart + 1;
  if (hostRange) {
    const hostCount = hostRange[1] - hostRange[0] + 1;
    if (count > 1 && hostCount !== count) {
      throw invalidArgument('INVALID_PORT_SPEC', `port ranges do not match in "${spec}": ${hostCount} host ports for ${count} container ports`);
    }
  }
  const out: PublishSpec[] = [];
  for (let i = 0; i < count; i++) {
    let hostPort = '';
    if (hostRange) {
      if (count > 1) hostPort = String(hostRange[0] + i);
      else hostPort = hostRange[0] === hostRange[1] ? String(hostRange[0]) : `${hostRange[0]}-${hostRange[1]}`;
    }
    out.push({ port: `${cStart + i}/${protocol}`, binding: { HostIp: ip, HostPort: hostPort } });
  }
  return out;
}

/** Several `-p` values into HostConfig.PortBindings and the ports to add to ExposedPorts. */
export function parsePublishSpecs(specs: readonly string[]): { portBindings: Record<string, PortBindingJson[]>; exposedPorts: Record<string, object> } {
  const portBindings: Record<string, PortBindingJson[]> = {};
  const exposedPorts: Record<string, object> = {};
  for (const spec of specs) {
    for (const item of parsePublishSpec(spec)) {
      (portBindings[item.port] ??= []).push(item.binding);
      exposedPorts[item.port] = {};
    }
  }
  return { portBindings, exposedPorts };
}

/** "80/tcp" (or "80", meaning tcp) into its parts. */
export function parsePortKey(key: string): { port: number; protocol: PortProtocol } {
  const [portText = '', proto = 'tcp'] = key.split('/');
  if (!PROTOCOLS.includes(proto)) throw invalidArgument('INVALID_PORT_SPEC', `invalid protocol in port "${key}"`);
  return { port: parsePortNumber(portText, 'container port', key), protocol: proto as PortProtocol };
}

/**
 * HostConfig.PortBindings (+ ExposedPorts when PublishAllPorts) into concrete mappings.
 * Empty HostPort means an ephemeral port (start 0), chosen when the port is reserved.
 */
export function mappingsFromBindings(
  bindings: Record<string, PortBindingJson[] | null> | undefined,
  exposed: Record<string, unknown> | undefined,
  publishAll: boolean,
): PortMapping[] {
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    seen.add(`${port}/${protocol}`);
    for (const binding of list ?? [{ HostIp: '', HostPort: '' }]) {
      const hostIp = binding.HostIp ?? '';
      if (hostIp !== '' && isIP(hostIp) === 0) throw invalidArgument('INVALID_PORT_SPEC', `invalid host ip "${hostIp}" for port ${key}`);
      const hostPortText = binding.HostPort ?? '';
      const [start, end] = hostPortText === '' || hostPortText === '0' ? [0, 0] : parsePortRange(hostPortText, 'host port', key);
      out.push({ protocol, containerPort: port, hostIp, hostPortStart: start, hostPortEnd: end });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (seen.has(`${port}/${protocol}`)) continue;
      out.push({ protocol, containerPort: port, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
    }
  }
  return out;
}
