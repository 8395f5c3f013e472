// Where a registry name really lives and whether plain HTTP may be used for it.
// Docker's rules: docker.io is served by registry-1.docker.io and its credentials are
// stored under https://index.docker.io/v1/; HTTPS always comes first, plain HTTP only for
// registries configured as insecure, and loopback (localhost, 127.0.0.0/8, ::1) is
// insecure by default.
import net from 'node:net';
import { invalidArgument } from '../errors/berth-error.js';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The key `docker login` uses for Docker Hub in ~/.docker/config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface RegistryHostPolicy {
  /** host[:port] entries and CIDR ranges (e.g. 10.0.0.0/8) where plain HTTP is allowed */
  insecureRegistries?: readonly string[];
}

export interface RegistryEndpoint {
  /** the name as written in references, e.g. docker.io or localhost:5000 */
  name: string;
  /** host[:port] that serves the API */
  apiHost: string;
  /** true when a plain-HTTP fallback is allowed */
  insecure: boolean;
}

const HOST_PATTERN = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

/** Normalise what users type (`https://host:5000/`, `index.docker.io`) to a registry name. */
export function normalizeRegistryName(input: string): string {
  let name = input.trim();
  name = name.replace(/^[a-z]+:\/\//i, '');
  name = name.replace(/\/.*$/, '');
  name = name.toLowerCase();
  if (name === 'index.docker.io' || name === DOCKER_HUB_API_HOST || name === '') name = DOCKER_HUB;
  if (!HOST_PATTERN.test(name)) {
    throw invalidArgument('INVALID_REGISTRY', `invalid registry name "${input.slice(0, 100)}"`,
      { hint: 'a registry is a host name or address with an optional :port' });
  }
  return name;
}

export function resolveEndpoint(registry: string, policy: RegistryHostPolicy = {}): RegistryEndpoint {
  const name = normalizeRegistryName(registry);
  const apiHost = name === DOCKER_HUB ? DOCKER_HUB_API_HOST : name;
  return { name, apiHost, insecure: isInsecure(name, policy) };
}

/** The key credentials for a registry are stored under in the docker config file. */
export function credentialKey(registry: string): string {
  const name = normalizeRegistryName(registry);
  return name === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : name;
}

export function splitHostPort(hostPort: string): { host: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] };
  const colon = hostPort.lastIndexOf(':');
  if (colon > 0 && hostPort.indexOf(':') === colon) return { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) };
  return { host: hostPort, port: undefined };
}

export function isInsecure(name: string, policy: RegistryHostPolicy): boolean {
  const { host } = splitHostPort(name);
  if (isLoopback(host)) return true;
  for (const entry of policy.insecureRegistries ?? []) {
    if (entry.includes('/')) {
      if (net.isIP(host) !== 0 && inCidr(host, entry)) return true;
    } else if (normalizeRegistryName(entry) === name) {
      return true;
    }
  }
  return false;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

/** IPv4 and IPv6 CIDR membership through node's BlockList (no hand-rolled bit maths). */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  const family = net.isIP(base ?? '');
  if (family === 0 || !Number.isInteger(prefix)) {
    throw invalidArgument('INVALID_CIDR', `invalid insecure registry range "${cidr}"`);
  }
  const list = new net.BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(base ?? '', prefix, type);
  return net.isIP(address) === family && list.check(address, type);
}
