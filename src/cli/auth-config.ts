// Registry credentials in docker's config.json format ($DOCKER_CONFIG/config.json or
// ~/.docker/config.json "auths"), so `berth login` and `docker login` share them.
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeJsonAtomic } from '../util/atomic-file.js';

const HUB = 'https://index.docker.io/v1/';

export function configPath(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json');
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(configPath(env), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : {};
  } catch {
    return {};
  }
}

function authsOf(config: Record<string, unknown>): Record<string, { auth?: string }> {
  const auths = config.auths;
  if (typeof auths !== 'object' || auths === null) return {};
  const out: Record<string, { auth?: string }> = {};
  for (const [key, value] of Object.entries(auths)) {
    if (typeof value === 'object' && value !== null && 'auth' in value && typeof value.auth === 'string') out[key] = { auth: value.auth };
    else out[key] = {};
  }
  return out;
}

/** The X-Registry-Auth header value for a registry (base64url JSON), or an empty one. */
export async function loadAuth(env: NodeJS.ProcessEnv, registry: string | undefined): Promise<string> {
  const key = registry ?? HUB;
  const entry = authsOf(await readConfig(env))[key];
  let payload: Record<string, string> = {};
  if (entry?.auth !== undefined) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    payload = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: key };
  }
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export async function saveAuth(env: NodeJS.ProcessEnv, registry: string | undefined, username: string, password: string): Promise<string> {
  const config = await readConfig(env);
  const auths: Record<string, unknown> = { ...(typeof config.auths === 'object' && config.auths !== null ? config.auths : {}) };
  auths[registry ?? HUB] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(file, { ...config, auths }, 0o600);
  return file;
}

export async function removeAuth(env: NodeJS.ProcessEnv, registry: string | undefined): Promise<boolean> {
  const config = await readConfig(env);
  const auths: Record<string, unknown> = { ...(typeof config.auths === 'object' && config.auths !== null ? config.auths : {}) };
  const key = registry ?? HUB;
  if (!(key in auths)) return false;
  delete auths[key];
  await writeJsonAtomic(configPath(env), { ...config, auths }, 0o600);
  return true;
}
