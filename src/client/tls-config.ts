// TLS to a daemon on tcp, as the docker CLI does it: --tls / --tlsverify (or DOCKER_TLS /
// DOCKER_TLS_VERIFY), certificates from --tlscacert/--tlscert/--tlskey or from
// $DOCKER_CERT_PATH (default ~/.docker) as ca.pem, cert.pem, key.pem.
//
// Which CAs are trusted with --tlsverify: a CA file, when there is one, and only it (docker:
// "trust certs signed only by this CA"). Without a CA file: node's bundled roots plus the
// user's NODE_EXTRA_CA_CERTS. bin/berth unsets NODE_EXTRA_CA_CERTS, because node would load
// that bundle eagerly on every start (~45 ms), and passes it on as BERTH_EXTRA_CA_CERTS, read
// here only when a TLS connection is made.
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

export interface TlsSettings {
  /** verify the daemon's certificate (false: --tls alone, encryption without verification) */
  verify: boolean;
  /** trust only this CA */
  caFile?: string;
  /** no CA file: trust node's roots and this bundle (the user's NODE_EXTRA_CA_CERTS) */
  extraCaFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The default tcp port with TLS, as docker's. */
export const TLS_PORT = 2376;

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/** undefined when the connection is plain; the settings otherwise. */
export function resolveTls(flags: TlsFlags, env: NodeJS.ProcessEnv, fileExists: (file: string) => boolean = existsSync): TlsSettings | undefined {
  const verify = flags.tlsverify ?? nonEmpty(env.DOCKER_TLS_VERIFY);
  const explicitFile = flags.tlscacert !== undefined || flags.tlscert !== undefined || flags.tlskey !== undefined;
  // docker: giving --tlsverify at all, even =false, turns TLS on
  const on = verify || flags.tlsverify !== undefined || (flags.tls ?? nonEmpty(env.DOCKER_TLS)) || explicitFile;
  if (!on) return undefined;
  const certDir = env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || path.join(env.HOME ?? '/root', '.docker');
  // an explicit file must exist (the connection fails on reading it); a default one may be absent
  const pick = (given: string | undefined, name: string): string | undefined => {
    if (given !== undefined) return given;
    const file = path.join(certDir, name);
    return fileExists(file) ? file : undefined;
  };
  const extra = env.BERTH_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS;
  const settings: TlsSettings = { verify };
  const caFile = pick(flags.tlscacert, 'ca.pem');
  if (caFile !== undefined) settings.caFile = caFile;
  else if (extra !== undefined && extra !== '') settings.extraCaFile = extra;
  const certFile = pick(flags.tlscert, 'cert.pem');
  const keyFile = pick(flags.tlskey, 'key.pem');
  if (certFile !== undefined) settings.certFile = certFile;
  if (keyFile !== undefined) settings.keyFile = keyFile;
  return settings;
}
