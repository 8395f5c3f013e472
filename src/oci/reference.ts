// Docker's image reference rules (distribution/reference): `busybox` is
// `docker.io/library/busybox:latest`, a first component with a dot or port (or
// `localhost`) is a registry host, tags are `[\w][\w.-]{0,127}`, digests follow `@`.
import { invalidArgument } from '../errors/berth-error.js';
import { isDigest, parseDigest, type Digest } from './digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

export interface ImageReference {
  /** registry host, e.g. `docker.io`, `localhost:5000` */
  readonly domain: string;
  /** repository path inside the registry, e.g. `library/busybox` */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** `domain/path`, the fully qualified repository name. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Full canonical string: `docker.io/library/busybox:latest`, `host/a@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return repositoryName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The short name Docker displays: `busybox`, `user/app`, `localhost:5000/a/b`. */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !ref.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
}

/** Familiar form with tag and digest: `busybox:latest`. */
export function familiarString(ref: ImageReference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/**
 * Parse and normalise a reference as `docker pull` does. The tag is left undefined when
 * not given (use withDefaultTag for `:latest`). Errors name the part that was wrong.
 */
export function parseReference(input: string): ImageReference {
  const text = input;
  if (text === '') throw invalidArgument('INVALID_REFERENCE', 'invalid reference format: repository name must not be empty');
  if (HEX64_RE.test(text)) {
    throw invalidArgument('INVALID_REFERENCE',
      `invalid repository name "${text}": cannot specify 64-byte hexadecimal strings`);
  }
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestText = rest.slice(at + 1);
    try {
      digest = parseDigest(digestText);
    } catch (cause) {
      throw invalidArgument('INVALID_REFERENCE', `invalid reference "${text}": bad digest "${digestText}"`, { cause });
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) {
      throw invalidArgument('INVALID_REFERENCE', `invalid reference "${text}": invalid tag "${tag}"`,
        { hint: 'tags are up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"' });
    }
  }
  const { domain, path } = splitDomain(rest, text);
  validatePath(path, text);
  const nameLength = domain.length + 1 + path.length;
  if (nameLength > NAME_TOTAL_LENGTH_MAX) {
    throw invalidArgument('INVALID_REFERENCE', `invalid reference "${clip(text)}": repository name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function splitDomain(name: string, original: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let domain: string;
  let path: string;
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
    if (!DOMAIN_RE.test(domain)) {
      throw invalidArgument('INVALID_REFERENCE', `invalid reference "${original}": invalid registry host "${domain}"`);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && path !== '' && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

function validatePath(path: string, original: string): void {
  if (path === '') throw invalidArgument('INVALID_REFERENCE', `invalid reference "${original}": repository name must not be empty`);
  if (path.toLowerCase() !== path) {
    throw invalidArgument('INVALID_REFERENCE', `invalid reference "${original}": repository name must be lowercase`);
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw invalidArgument('INVALID_REFERENCE',
        `invalid reference "${clip(original)}": invalid repository path component "${clip(component)}"`,
        { hint: 'path components are lowercase letters and digits separated by ".", "_", "__" or "-"' });
    }
  }
}

/** Add `:latest` when a reference has neither tag nor digest (what `docker pull busybox` means). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** parseReference + withDefaultTag. */
export function parseNormalizedReference(input: string): ImageReference {
  return withDefaultTag(parseReference(input));
}

/** Validate a bare tag (for `docker tag` and build `-t`). */
export function parseTag(tag: string): string {
  if (!TAG_RE.test(tag)) throw invalidArgument('INVALID_REFERENCE', `invalid tag "${clip(tag)}"`);
  return tag;
}

/** True when a string could be an image ID or ID prefix rather than a name (`sha256:ab12`, `ab12ef`). */
export function looksLikeImageId(text: string): boolean {
  if (text.startsWith('sha256:')) return /^[a-f0-9]{1,64}$/.test(text.slice(7));
  return /^[a-f0-9]{1,64}$/.test(text);
}

export function isCanonicalDigest(value: string): value is Digest {
  return isDigest(value);
}

function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
