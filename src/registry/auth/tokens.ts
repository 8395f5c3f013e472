// The Bearer token flow of the distribution spec (docker/distribution token auth): the
// registry's WWW-Authenticate names a realm, service and scope; the client asks the realm
// for a token (anonymously, with Basic credentials, or with an OAuth refresh token) and
// caches it per scope until shortly before it expires.
import { z } from 'zod';
import { BerthError } from '../../errors/berth-error.js';
import { readBody, redactUrl, type Transport } from '../transport.js';
import type { Credentials } from './credentials.js';

export interface BearerChallenge {
  realm: string;
  service?: string;
}

const tokenReplySchema = z.object({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
});

const MIN_LIFETIME_S = 60; // the spec's default when expires_in is missing
const MAX_TOKEN_REPLY = 1024 * 1024;

interface CachedToken { token: string; expiresAt: number }

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly transport: Transport, private readonly now: () => number = Date.now) {}

  async token(challenge: BearerChallenge, scopes: readonly string[], credentials: Credentials | undefined): Promise<string> {
    const key = `${challenge.realm}|${challenge.service ?? ''}|${[...scopes].sort().join(' ')}|${credentials?.username ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) return cached.token;
    const fresh = await fetchToken(this.transport, challenge, scopes, credentials);
    // renew 10% early so a token never expires between the check and its use
    const lifetimeMs = Math.max(fresh.expiresIn, MIN_LIFETIME_S) * 1000 * 0.9;
    this.tokens.set(key, { token: fresh.token, expiresAt: this.now() + lifetimeMs });
    return fresh.token;
  }

  forget(): void {
    this.tokens.clear();
  }
}

/** Asks the token realm for a token; the result is validated, failures name the realm only. */
export async function fetchToken(transport: Transport, challenge: BearerChallenge, scopes: readonly string[],
  credentials: Credentials | undefined): Promise<{ token: string; expiresIn: number; refreshToken?: string }> {
  const realm = parseRealm(challenge.realm);
  const response = credentials?.identityToken !== undefined
    ? await transport.request(refreshTokenRequest(realm, challenge, scopes, credentials.identityToken))
    : await transport.request(basicTokenRequest(realm, challenge, scopes, credentials));
  const body = await readBody(response, MAX_TOKEN_REPLY, `token reply from ${redactUrl(realm)}`);
  if (response.status === 401 || response.status === 403) {
    throw new BerthError('unauthorized', 'REGISTRY_UNAUTHORIZED',
      `the token server ${redactUrl(realm)} refused ${credentials ? `the credentials of ${credentials.username || 'the stored token'}` : 'anonymous access'}`,
      { hint: credentials ? 'check the user name and password' : 'log in first with "berth login"', detail: { status: response.status } });
  }
  if (response.status !== 200) {
    throw new BerthError('unavailable', 'REGISTRY_TOKEN_FAILED', `the token server ${redactUrl(realm)} answered HTTP ${response.status}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new BerthError('unavailable', 'REGISTRY_TOKEN_FAILED', `the token server ${redactUrl(realm)} sent invalid JSON`, { cause });
  }
  const reply = tokenReplySchema.safeParse(parsed);
  const token = reply.success ? reply.data.token ?? reply.data.access_token : undefined;
  if (!reply.success || token === undefined || token === '') {
    throw new BerthError('unavailable', 'REGISTRY_TOKEN_FAILED', `the token server ${redactUrl(realm)} sent no token`);
  }
  const result: { token: string; expiresIn: number; refreshToken?: string } = { token, expiresIn: reply.data.expires_in ?? MIN_LIFETIME_S };
  if (reply.data.refresh_token !== undefined) result.refreshToken = reply.data.refresh_token;
  return result;
}

function parseRealm(realm: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (cause) {
    throw new BerthError('unavailable', 'REGISTRY_BAD_CHALLENGE', 'the registry sent an invalid token realm', { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BerthError('unavailable', 'REGISTRY_BAD_CHALLENGE', `the registry sent an unsupported token realm ${redactUrl(url)}`);
  }
  return url;
}

function basicTokenRequest(realm: URL, challenge: BearerChallenge, scopes: readonly string[], credentials: Credentials | undefined) {
  const url = new URL(realm);
  if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = {};
  if (credentials !== undefined) {
    url.searchParams.set('account', credentials.username);
    headers.authorization = basicAuthorization(credentials);
  }
  return { method: 'GET' as const, url, headers };
}

function refreshTokenRequest(realm: URL, challenge: BearerChallenge, scopes: readonly string[], refreshToken: string) {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'berth' });
  if (challenge.service !== undefined) form.set('service', challenge.service);
  if (scopes.length > 0) form.set('scope', scopes.join(' '));
  return {
    method: 'POST' as const,
    url: realm,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(form.toString()),
  };
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
}

