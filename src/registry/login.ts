// `login` and `logout` as docker does them: the credentials are tried against the
// registry (Basic on /v2/, or a token request to the Bearer realm) before they are
// stored; logout forgets them. Nothing here puts a password into a message.
import { BerthError } from '../errors/berth-error.js';
import type { Credentials, DockerCredentialStore } from './auth/credentials.js';
import { fetchToken } from './auth/tokens.js';
import type { RegistryClient } from './client.js';
import { registryError } from './errors.js';
import { normalizeRegistryName } from './hosts.js';
import { discardBody } from './transport.js';

export interface LoginResult {
  registry: string;
  /** "Login Succeeded", as the Engine API's /auth answers */
  status: string;
  /** a refresh token the token server issued, if any (Docker's IdentityToken) */
  identityToken?: string;
}

export async function verifyCredentials(client: RegistryClient, registry: string, credentials: Credentials): Promise<LoginResult> {
  const name = normalizeRegistryName(registry);
  const session = client.sessionWith(name, credentials);
  const ping = await session.ping();
  const result: LoginResult = { registry: name, status: 'Login Succeeded' };
  if (ping.auth === 'bearer') {
    const challenge = session.bearerChallenge;
    if (challenge === undefined) throw new BerthError('internal', 'LOGIN_FAILED', `login to ${name}: no token realm`);
    const token = await fetchToken(client.transport, challenge, [], credentials);
    if (token.refreshToken !== undefined) result.identityToken = token.refreshToken;
    return result;
  }
  if (ping.auth === 'none') return result; // the registry asks for nothing: docker accepts too
  const response = await session.send({ method: 'GET', target: '/v2/' }, []);
  if (response.status === 200) {
    await discardBody(response);
    return result;
  }
  const err = await registryError(response, `login to ${name} as ${credentials.username}`);
  throw err.kind === 'unauthorized'
    ? new BerthError('unauthorized', 'LOGIN_FAILED', `login to ${name} as ${credentials.username} failed: wrong user name or password`, { cause: err })
    : err;
}

/** Verifies the credentials, then stores them (with a helper when one is configured). */
export async function login(client: RegistryClient, store: DockerCredentialStore, registry: string, credentials: Credentials): Promise<LoginResult> {
  const result = await verifyCredentials(client, registry, credentials);
  await store.store(result.registry, credentials);
  return result;
}

/** Forgets stored credentials; the error names the registry when there were none. */
export async function logout(store: DockerCredentialStore, registry: string): Promise<void> {
  const name = normalizeRegistryName(registry);
  if (!(await store.erase(name))) {
    throw new BerthError('not_found', 'NOT_LOGGED_IN', `not logged in to ${name}`);
  }
}
