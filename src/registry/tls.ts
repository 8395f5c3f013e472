// TLS for registry hosts as Docker configures it: a directory per host (`host:port`) under
// /etc/berth/certs.d and /etc/docker/certs.d, where every *.crt is a CA added to the system
// roots and each *.cert/*.key pair is a client certificate. A registry listed as insecure
// is reached over HTTPS without verifying its certificate (then plain HTTP), as dockerd does.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { BerthError, errnoCode } from '../errors/berth-error.js';

export const DEFAULT_CERT_DIRS: readonly string[] = ['/etc/berth/certs.d', '/etc/docker/certs.d'];

export interface HostTlsOptions {
  /** undefined: the system roots */
  ca?: (string | Buffer)[];
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export interface RegistryTlsPolicy {
  /** host directories are looked up under each of these (default DEFAULT_CERT_DIRS) */
  certDirs?: readonly string[];
  /** hosts (as in a URL: host[:port]) whose certificates are not verified */
  isInsecure?: (host: string) => boolean;
}

/** The TLS options for one host: custom CAs and a client certificate from its certs.d directories. */
export async function hostTlsOptions(host: string, policy: RegistryTlsPolicy = {}): Promise<HostTlsOptions> {
  const options: HostTlsOptions = { rejectUnauthorized: policy.isInsecure?.(host) !== true };
  if (!/^[A-Za-z0-9.:[\]_-]+$/.test(host) || host.includes('..')) return options;
  const cas: Buffer[] = [];
  for (const base of policy.certDirs ?? DEFAULT_CERT_DIRS) {
    const found = await readCertsDirectory(path.join(base, host));
    cas.push(...found.cas);
    if (found.client !== undefined && options.cert === undefined) {
      options.cert = found.client.cert;
      options.key = found.client.key;
    }
  }
  if (cas.length > 0) options.ca = [...tls.rootCertificates, ...cas];
  return options;
}

interface CertsDirectory {
  cas: Buffer[];
  client?: { cert: Buffer; key: Buffer };
}

/** Docker's ReadCertsDirectory rules: *.crt are CAs; x.cert needs x.key and the other way round. */
export async function readCertsDirectory(dir: string): Promise<CertsDirectory> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return { cas: [] };
    throw certError(`cannot read the certificate directory ${dir}`, err);
  }
  const result: CertsDirectory = { cas: [] };
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith('.crt')) {
      result.cas.push(await readCertFile(file));
    } else if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName)) {
        throw certError(`missing key ${keyName} for client certificate ${file}; CA certificates must use the extension .crt`);
      }
      result.client ??= { cert: await readCertFile(file), key: await readCertFile(path.join(dir, keyName)) };
    } else if (name.endsWith('.key')) {
      const certName = `${name.slice(0, -'.key'.length)}.cert`;
      if (!names.includes(certName)) throw certError(`missing client certificate ${certName} for key ${file}`);
    }
  }
  return result;
}

async function readCertFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw certError(`cannot read ${file}`, err);
  }
}

function certError(message: string, cause?: unknown): BerthError {
  return new BerthError('invalid_argument', 'REGISTRY_TLS_CONFIG', message, cause === undefined ? {} : { cause });
}
