// Credentials as the docker CLI keeps them: ~/.docker/config.json (or $DOCKER_CONFIG)
// with `auths` entries holding base64 "user:password", or a credential helper
// (`credsStore` for all registries, `credHelpers` per registry) that is the program
// docker-credential-<name> speaking JSON on stdin/stdout. Secrets never enter messages.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BerthError, errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { runProgram } from '../../sys/exec.js';
import { credentialKey, normalizeRegistryName } from '../hosts.js';

export interface Credentials {
  username: string;
  /** password or personal access token */
  password?: string;
  /** an OAuth refresh token from a previous login (Docker's identitytoken) */
  identityToken?: string;
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
export type CredentialHelperRunner = (helper: string, action: 'get' | 'store' | 'erase', input: string) => Promise<{ code: number; stdout: string; stderr: string }>;

export const runCredentialHelper: CredentialHelperRunner = async (helper, action, input) => {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) {
    throw invalidArgument('INVALID_CREDENTIAL_HELPER', `invalid credential helper name "${helper.slice(0, 64)}"`);
  }
  return await runProgram(`docker-credential-${helper}`, [action], { input, allowFailure: true });
};

const authEntrySchema = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
}).passthrough();

const configSchema = z.object({
  auths: z.record(z.string(), authEntrySchema).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
}).passthrough();
type DockerConfig = z.infer<typeof configSchema>;

const helperReplySchema = z.object({ ServerURL: z.string().optional(), Username: z.string(), Secret: z.string() });

export function defaultDockerConfigDir(): string {
  return process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
}

/** Reads and writes credentials in one docker config directory. */
export class DockerCredentialStore {
  readonly file: string;

  constructor(configDir: string = defaultDockerConfigDir(), private readonly runHelper: CredentialHelperRunner = runCredentialHelper) {
    this.file = path.join(configDir, 'config.json');
  }

  async get(registry: string): Promise<Credentials | undefined> {
    const config = await this.read();
    const key = credentialKey(registry);
    const helper = helperFor(config, registry);
    if (helper !== undefined) return await this.getFromHelper(helper, key);
    const entry = findAuthEntry(config, registry);
    return entry === undefined ? undefined : decodeAuthEntry(entry, key);
  }

  async store(registry: string, credentials: Credentials): Promise<void> {
    const config = await this.read();
    const key = credentialKey(registry);
    const helper = helperFor(config, registry);
    const auths = { ...(config.auths ?? {}) };
    if (helper !== undefined) {
      const secret = credentials.identityToken ?? credentials.password ?? '';
      const username = credentials.identityToken !== undefined ? '<token>' : credentials.username;
      const reply = await this.runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: secret }));
      if (reply.code !== 0) throw helperFailed(helper, 'store', key, reply.stdout + reply.stderr);
      auths[key] = {}; // docker leaves an empty entry so `docker info` lists the registry
    } else {
      const entry: Record<string, string> = {
        auth: Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64'),
      };
      if (credentials.identityToken !== undefined) entry.identitytoken = credentials.identityToken;
      auths[key] = entry;
    }
    await this.write({ ...config, auths });
  }

  /** Removes stored credentials; false when there were none. */
  async erase(registry: string): Promise<boolean> {
    const config = await this.read();
    const key = credentialKey(registry);
    const helper = helperFor(config, registry);
    let found = false;
    if (helper !== undefined) {
      const reply = await this.runHelper(helper, 'erase', key);
      if (reply.code === 0) found = true;
      else if (!isNotFoundReply(reply.stdout + reply.stderr)) throw helperFailed(helper, 'erase', key, reply.stdout + reply.stderr);
    }
    const auths = { ...(config.auths ?? {}) };
    for (const name of Object.keys(auths)) {
      if (sameRegistry(name, registry)) {
        delete auths[name];
        found = true;
      }
    }
    if (found) await this.write({ ...config, auths });
    return found;
  }

  private async getFromHelper(helper: string, key: string): Promise<Credentials | undefined> {
    const reply = await this.runHelper(helper, 'get', key);
    if (reply.code !== 0) {
      if (isNotFoundReply(reply.stdout + reply.stderr)) return undefined;
      throw helperFailed(helper, 'get', key, reply.stdout + reply.stderr);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.stdout);
    } catch (cause) {
      throw new BerthError('internal', 'CREDENTIAL_HELPER_FAILED', `credential helper docker-credential-${helper} returned invalid JSON for ${key}`, { cause });
    }
    const result = helperReplySchema.safeParse(parsed);
    if (!result.success) {
      throw new BerthError('internal', 'CREDENTIAL_HELPER_FAILED', `credential helper docker-credential-${helper} returned an unexpected reply for ${key}`);
    }
    const { Username, Secret } = result.data;
    return Username === '<token>' ? { username: '', identityToken: Secret } : { username: Username, password: Secret };
  }

  private async read(): Promise<DockerConfig> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return {};
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw invalidArgument('INVALID_DOCKER_CONFIG', `${this.file} is not valid JSON`, { cause });
    }
    const result = configSchema.safeParse(raw);
    if (!result.success) {
      const field = result.error.issues[0]?.path.join('.') ?? '(document)';
      throw invalidArgument('INVALID_DOCKER_CONFIG', `${this.file}: field "${field}" is invalid`);
    }
    return result.data;
  }

  private async write(config: DockerConfig): Promise<void> {
    await writeJsonAtomic(this.file, config, 0o600);
  }
}

function helperFor(config: DockerConfig, registry: string): string | undefined {
  const name = normalizeRegistryName(registry);
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (sameRegistry(key, name)) return helper;
  }
  return config.credsStore !== undefined && config.credsStore !== '' ? config.credsStore : undefined;
}

function sameRegistry(key: string, registry: string): boolean {
  try {
    return normalizeRegistryName(key) === normalizeRegistryName(registry);
  } catch {
    return false;
  }
}

function findAuthEntry(config: DockerConfig, registry: string): z.infer<typeof authEntrySchema> | undefined {
  const auths = config.auths ?? {};
  const exact = auths[credentialKey(registry)];
  if (exact !== undefined) return exact;
  for (const [key, entry] of Object.entries(auths)) {
    if (sameRegistry(key, registry)) return entry;
  }
  return undefined;
}

function decodeAuthEntry(entry: z.infer<typeof authEntrySchema>, key: string): Credentials | undefined {
  let username = entry.username;
  let password = entry.password;
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw invalidArgument('INVALID_DOCKER_CONFIG', `the stored credentials for ${key} are malformed (no ":" in auth)`,
        { hint: `run "berth login ${key}" again` });
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (username === undefined && entry.identitytoken === undefined) return undefined;
  const credentials: Credentials = { username: username ?? '' };
  if (password !== undefined) credentials.password = password;
  if (entry.identitytoken !== undefined && entry.identitytoken !== '') credentials.identityToken = entry.identitytoken;
  return credentials;
}

function isNotFoundReply(text: string): boolean {
  return /credentials not found/i.test(text);
}

function helperFailed(helper: string, action: string, key: string, output: string): BerthError {
  // The helper's own words help, but are cut short: they never echo our stdin secret.
  const said = output.trim().split('\n')[0]?.slice(0, 200) ?? '';
  return new BerthError('internal', 'CREDENTIAL_HELPER_FAILED',
    `credential helper docker-credential-${helper} ${action} failed for ${key}${said ? `: ${said}` : ''}`);
}
