// One registry host as the client sees it: which scheme it speaks (HTTPS, or plain HTTP
// when the host is insecure and HTTPS fails), which authentication it asks for (learnt
// from /v2/ once), and the credentials and tokens to answer with. Requests carry the
// scopes they need; a 401 on the way refreshes the challenge and retries once.
import { BerthError, isBerthError } from '../errors/berth-error.js';
import { parseChallenges, type AuthChallenge } from './auth/challenge.js';
import type { Credentials } from './auth/credentials.js';
import { basicAuthorization, TokenCache, type BearerChallenge } from './auth/tokens.js';
import type { RegistryEndpoint } from './hosts.js';
import { discardBody, type Transport, type HttpMethod, type HttpRequest, type HttpResponse } from './transport.js';

export interface CredentialSource {
  get(registry: string): Promise<Credentials | undefined>;
}

export interface SessionRequest {
  method: HttpMethod;
  /** a path under the registry root (`/v2/...?query`) or an absolute URL (upload locations) */
  target: string | URL;
  headers?: Record<string, string>;
  body?: HttpRequest['body'];
  bodyLength?: number;
  followRedirects?: boolean;
}

type AuthMode = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; challenge: BearerChallenge };

export interface PingResult {
  url: URL;
  status: number;
  auth: AuthMode['kind'];
}

export class RegistrySession {
  private base: URL | undefined;
  private auth: AuthMode = { kind: 'none' };
  private pinging: Promise<PingResult> | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;

  constructor(readonly endpoint: RegistryEndpoint, private readonly transport: Transport,
    private readonly tokens: TokenCache, private readonly credentialSource: CredentialSource | undefined,
    explicitCredentials?: Credentials) {
    if (explicitCredentials !== undefined) this.credentials = Promise.resolve(explicitCredentials);
  }

  /** GET /v2/ once per session: picks the scheme and learns the authentication scheme. */
  async ping(): Promise<PingResult> {
    this.pinging ??= this.doPing();
    try {
      return await this.pinging;
    } catch (err) {
      this.pinging = undefined;
      throw err;
    }
  }

  async send(request: SessionRequest, scopes: readonly string[]): Promise<HttpResponse> {
    const { url: base } = await this.ping();
    const url = typeof request.target === 'string' ? new URL(request.target, base) : request.target;
    const build = async (): Promise<HttpRequest> => {
      const headers = { ...request.headers };
      const authorization = await this.authorization(scopes, url);
      if (authorization !== undefined) headers.authorization = authorization;
      const out: HttpRequest = { method: request.method, url, headers };
      if (request.body !== undefined) out.body = request.body;
      if (request.bodyLength !== undefined) out.bodyLength = request.bodyLength;
      if (request.followRedirects !== undefined) out.followRedirects = request.followRedirects;
      return out;
    };
    const response = await this.transport.request(await build());
    if (response.status !== 401) return response;
    const mode = authModeFrom(parseChallenges(response.headers['www-authenticate']));
    if (mode.kind === 'none' || (mode.kind === this.auth.kind && mode.kind !== 'bearer')) return response;
    await discardBody(response);
    if (this.auth.kind === 'bearer') this.tokens.forget(); // a cached token the registry no longer takes
    this.auth = mode;
    return await this.transport.request(await build());
  }

  async getCredentials(): Promise<Credentials | undefined> {
    this.credentials ??= this.credentialSource?.get(this.endpoint.name) ?? Promise.resolve(undefined);
    return await this.credentials;
  }

  get authKind(): AuthMode['kind'] {
    return this.auth.kind;
  }

  get bearerChallenge(): BearerChallenge | undefined {
    return this.auth.kind === 'bearer' ? this.auth.challenge : undefined;
  }

  private async authorization(scopes: readonly string[], url: URL): Promise<string | undefined> {
    // credentials go to the registry's own origin only, never to a host an upload Location names
    if (this.base !== undefined && url.origin !== this.base.origin) return undefined;
    if (this.auth.kind === 'none') return undefined;
    const credentials = await this.getCredentials();
    if (this.auth.kind === 'basic') return credentials ? basicAuthorization(credentials) : undefined;
    return `Bearer ${await this.tokens.token(this.auth.challenge, scopes, credentials)}`;
  }

  private async doPing(): Promise<PingResult> {
    const { apiHost, insecure } = this.endpoint;
    let response: HttpResponse;
    try {
      response = await this.transport.request({ method: 'GET', url: new URL(`https://${apiHost}/v2/`) });
    } catch (err) {
      if (!insecure || !isBerthError(err) || err.code !== 'REGISTRY_UNREACHABLE') throw withHint(err, this.endpoint);
      response = await this.transport.request({ method: 'GET', url: new URL(`http://${apiHost}/v2/`) });
    }
    await discardBody(response);
    if (response.status !== 200 && response.status !== 401) {
      throw new BerthError('unavailable', 'REGISTRY_NOT_V2',
        `${this.endpoint.name} does not look like a registry: GET /v2/ answered HTTP ${response.status}`);
    }
    this.base = new URL('/', response.url);
    if (response.status === 401) this.auth = authModeFrom(parseChallenges(response.headers['www-authenticate']));
    return { url: this.base, status: response.status, auth: this.auth.kind };
  }
}

function authModeFrom(challenges: readonly AuthChallenge[]): AuthMode {
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined);
  if (bearer !== undefined) {
    const challenge: BearerChallenge = { realm: bearer.params.realm ?? '' };
    if (bearer.params.service !== undefined) challenge.service = bearer.params.service;
    return { kind: 'bearer', challenge };
  }
  if (challenges.some((c) => c.scheme === 'basic')) return { kind: 'basic' };
  return { kind: 'none' };
}

function withHint(err: unknown, endpoint: RegistryEndpoint): unknown {
  if (!isBerthError(err) || err.code !== 'REGISTRY_UNREACHABLE' || err.detail?.tls !== true) return err;
  if (err.detail.certificate === true) {
    return new BerthError('unavailable', 'REGISTRY_UNREACHABLE', err.message, {
      cause: err,
      hint: `put the CA certificate of ${endpoint.apiHost} in /etc/docker/certs.d/${endpoint.apiHost}/ca.crt `
        + `(or /etc/berth/certs.d), or add ${endpoint.name} to the insecure registries`,
      detail: err.detail,
    });
  }
  return new BerthError('unavailable', 'REGISTRY_UNREACHABLE', `${err.message} (HTTPS failed)`, {
    cause: err,
    hint: `if ${endpoint.name} serves plain HTTP, add it to the insecure registries`,
    detail: err.detail,
  });
}
