// A small token server for the registry's token auth: ES256 JWTs with the signing
// certificate in the x5c header (the registry trusts it through rootcertbundle). Users
// with a password get what they ask for; anonymous callers get pull only. Every request
// is recorded so tests can assert what the client asked for.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export interface TokenRequestRecord {
  account?: string;
  authorized: boolean;
  scopes: string[];
  service?: string;
}

export interface RunningTokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

export async function startTokenServer(dir: string, users: Record<string, string>): Promise<RunningTokenServer> {
  const keyFile = path.join(dir, 'token-key.pem');
  const certFile = path.join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
    '-out', certFile, '-subj', '/CN=berth-test-token', '-days', '1'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenRequestRecord[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const scopes = url.searchParams.getAll('scope');
    const account = checkBasic(req.headers.authorization, users);
    const record: TokenRequestRecord = { authorized: account !== undefined, scopes };
    if (account !== undefined) record.account = account;
    const svc = url.searchParams.get('service');
    if (svc !== null) record.service = svc;
    requests.push(record);
    if (req.headers.authorization !== undefined && account === undefined) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong credentials"}');
      return;
    }
    const access = scopes.map((scope) => grant(scope, account !== undefined)).filter((a) => a !== undefined);
    const token = signToken(key, certDer, { issuer, service, subject: account ?? '', access });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile, requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkBasic(header: string | undefined, users: Record<string, string>): string | undefined {
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] !== undefined && users[user] === decoded.slice(colon + 1) ? user : undefined;
}

function grant(scope: string, authenticated: boolean): { type: string; name: string; actions: string[] } | undefined {
  const parts = scope.split(':');
  if (parts.length < 3 || parts[0] !== 'repository') return undefined;
  const actions = (parts[parts.length - 1] ?? '').split(',').filter((a) => authenticated || a === 'pull');
  return { type: 'repository', name: parts.slice(1, -1).join(':'), actions };
}

function signToken(key: KeyObject, certDer: string, claims: { issuer: string; service: string; subject: string; access: unknown[] }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer] };
  const payload = {
    iss: claims.issuer, sub: claims.subject, aud: claims.service, exp: now + 300, nbf: now - 10, iat: now,
    jti: randomBytes(8).toString('hex'), access: claims.access,
  };
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${input}.${signature}`;
}
