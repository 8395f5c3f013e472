// Image references as typed by people: [registry/]repo[:tag][@digest].
import { invalidArgument } from '../errors/berth-error.js';

const REFERENCE = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** Split "host:5000/a/b:tag" into repo and tag (the tag is after the last colon past the last slash). */
export function splitReference(ref: string): { repo: string; tag: string | undefined; digest: string | undefined } {
  if (!REFERENCE.test(ref)) throw invalidArgument('INVALID_REFERENCE', `invalid reference format: ${/[A-Z]/.test(ref) ? 'repository name must be lowercase' : ref}`);
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repo: name.slice(0, colon), tag: name.slice(colon + 1), digest };
  return { repo: name, tag: undefined, digest };
}

/** The registry host of a reference, or undefined for Docker Hub. */
export function registryOf(repo: string): string | undefined {
  const first = repo.split('/')[0] ?? '';
  return repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}
