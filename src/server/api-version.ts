// Docker Engine API versions: the range berthd serves and the comparisons the routes
// use to shape answers that changed between versions.
import { invalidArgument } from '../errors/berth-error.js';

/** the newest version in /work/shared/ref/docker-engine-api (v1.55.yaml) */
export const API_VERSION_NEWEST = '1.55';
/** the oldest version berthd still accepts, as the issue asks */
export const API_VERSION_OLDEST = '1.24';

const VERSION_RE = /^1\.(\d{1,3})$/;

function minor(version: string): number {
  const match = VERSION_RE.exec(version);
  if (!match?.[1]) throw invalidArgument('BAD_API_VERSION', `invalid api version ${JSON.stringify(version)}`);
  return Number(match[1]);
}

export function versionLessThan(a: string, b: string): boolean {
  return minor(a) < minor(b);
}

export function versionAtLeast(a: string, b: string): boolean {
  return minor(a) >= minor(b);
}

/** Check a version taken from a `/v1.xx/` path prefix, with dockerd's messages. */
export function checkRequestedVersion(version: string): string {
  if (!VERSION_RE.test(version)) {
    throw invalidArgument('BAD_API_VERSION', `invalid api version ${JSON.stringify(version)} in the request path`);
  }
  if (versionLessThan(version, API_VERSION_OLDEST)) {
    throw invalidArgument('API_VERSION_TOO_OLD',
      `client version ${version} is too old. Minimum supported API version is ${API_VERSION_OLDEST}, please upgrade your client to a newer version`);
  }
  if (versionLessThan(API_VERSION_NEWEST, version)) {
    throw invalidArgument('API_VERSION_TOO_NEW',
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION_NEWEST}`);
  }
  return version;
}

/** Split `/v1.41/containers/json` into the version and the route path. */
export function splitVersionPrefix(pathname: string): { version: string | undefined; path: string } {
  const match = /^\/v([^/]+)(\/.*)?$/.exec(pathname);
  if (!match?.[1] || !/^\d/.test(match[1])) return { version: undefined, path: pathname };
  return { version: match[1], path: match[2] ?? '/' };
}
