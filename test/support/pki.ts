// A throwaway PKI for TLS tests, made with the openssl command.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from '../cli/support/harness.js';

async function openssl(args: string[], cwd: string): Promise<void> {
  // execFile has no cwd: the shell changes into the folder the relative names are in
  const result = await execFile('sh', ['-c', 'cd "$0" && exec openssl "$@"', cwd, ...args]);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all from that CA; and an unrelated CA. */
export async function makePki(dir: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth test ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem'], dir);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth other ca', '-keyout', 'other-key.pem', '-out', 'other-ca.pem'], dir);
  await writeFile(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await writeFile(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=berth ${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`], dir);
    await openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${who}.ext`, '-out', `${who}.pem`], dir);
  }
}

