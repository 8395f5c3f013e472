// Content digests of the OCI image spec: `<algorithm>:<encoded>`. Only the registered
// algorithms sha256 and sha512 are accepted; the encoded part is lowercase hex of the
// exact length, so a digest string is also safe to use as a file name.
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../errors/berth-error.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** A validated digest string such as `sha256:<64 hex>`. */
export type Digest = `${DigestAlgorithm}:${string}` & { readonly __digest: unique symbol };

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^(sha256|sha512):([a-f0-9]+)$/;

export function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'string') return false;
  const match = DIGEST_PATTERN.exec(value);
  if (!match) return false;
  const algorithm = match[1] as DigestAlgorithm;
  return match[2]?.length === HEX_LENGTH[algorithm];
}

/** Parse a digest; the error names the bad value and what was wrong with it. */
export function parseDigest(value: string): Digest {
  if (isDigest(value)) return value;
  const colon = value.indexOf(':');
  if (colon < 0) {
    throw invalidArgument('INVALID_DIGEST', `invalid digest "${clip(value)}": missing "<algorithm>:" prefix`);
  }
  const algorithm = value.slice(0, colon);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw invalidArgument('UNSUPPORTED_DIGEST', `invalid digest "${clip(value)}": unsupported algorithm "${clip(algorithm)}"`,
      { hint: 'digests use sha256 or sha512' });
  }
  const encoded = value.slice(colon + 1);
  const expected = HEX_LENGTH[algorithm];
  if (!/^[a-f0-9]*$/.test(encoded)) {
    throw invalidArgument('INVALID_DIGEST', `invalid digest "${clip(value)}": encoded part must be lowercase hex`);
  }
  throw invalidArgument('INVALID_DIGEST',
    `invalid digest "${clip(value)}": ${algorithm} needs ${expected} hex characters, got ${encoded.length}`);
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

/** The hex part of a digest (what Docker shows as an image ID without the prefix). */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function digestOf(data: string | Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}

/** Incremental digest of a stream of chunks; also counts the bytes seen. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  private bytes = 0;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): this {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    return this;
  }

  get size(): number {
    return this.bytes;
  }

  /** Final digest; the digester cannot be updated afterwards. */
  digest(): Digest {
    return `${this.algorithm}:${this.hash.digest('hex')}` as Digest;
  }

  /** A snapshot of the digest so far, without finishing (used to resume ingests). */
  peek(): Digest {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}` as Digest;
  }
}

/** First 12 hex characters: Docker's short ID form. */
export function shortDigest(digest: Digest): string {
  return digestHex(digest).slice(0, 12);
}

function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
