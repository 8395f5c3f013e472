// Answers whose shape changed between API versions (see CHANGELOG.md of the Engine API):
// the daemon builds one full answer, these trim or fill it for the version the client asked.
import { versionAtLeast } from './api-version.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

/** NetworkSettings fields deprecated in 1.21 and dropped in 1.52 (the per-network ones stay in Networks). */
const LEGACY_NETWORK_SETTINGS = ['Bridge', 'HairpinMode', 'LinkLocalIPv6Address', 'LinkLocalIPv6PrefixLen', 'SecondaryIPAddresses',
  'SecondaryIPv6Addresses', 'EndpointID', 'Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'IPAddress', 'IPPrefixLen',
  'IPv6Gateway', 'MacAddress'];

/** GET /containers/{id}/json */
export function shapeContainerInspect(body: unknown, version: string): unknown {
  if (!isObject(body) || !versionAtLeast(version, '1.52')) return body;
  const out: Json = { ...body };
  if (isObject(body['NetworkSettings'])) {
    const settings: Json = { ...body['NetworkSettings'] };
    for (const key of LEGACY_NETWORK_SETTINGS) delete settings[key];
    out['NetworkSettings'] = settings;
  }
  if (isObject(body['Config']) && isEmpty(body['Config']['OnBuild'])) {
    const { OnBuild: _onBuild, ...config } = body['Config'];
    out['Config'] = config;
  }
  return out;
}

/** Config fields of an image inspect that were container-only: always empty, dropped in 1.50. */
const IMAGE_CONFIG_CONTAINER_FIELDS: Json = {
  Hostname: '', Domainname: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Image: '',
};
/** the image-config fields older versions show even when unset */
const IMAGE_CONFIG_FIELDS: Json = { User: '', Env: null, Cmd: null, Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };
/** omitted when empty from 1.52 on */
const IMAGE_OPTIONAL_FIELDS = ['Parent', 'Comment', 'DockerVersion', 'Author'];

/** GET /images/{name}/json */
export function shapeImageInspect(body: unknown, version: string): unknown {
  if (!isObject(body)) return body;
  const out: Json = { ...body };
  if (versionAtLeast(version, '1.44')) delete out['VirtualSize'];
  else out['VirtualSize'] ??= out['Size'];
  if (versionAtLeast(version, '1.45')) {
    delete out['Container'];
    delete out['ContainerConfig'];
  }
  const config: Json = isObject(body['Config']) ? { ...body['Config'] } : {};
  if (versionAtLeast(version, '1.50')) {
    for (const key of Object.keys(IMAGE_CONFIG_CONTAINER_FIELDS)) delete config[key];
  } else {
    for (const [key, empty] of Object.entries({ ...IMAGE_CONFIG_CONTAINER_FIELDS, ...IMAGE_CONFIG_FIELDS })) config[key] ??= empty;
  }
  if (versionAtLeast(version, '1.52')) {
    for (const key of Object.keys(IMAGE_CONFIG_FIELDS)) if (isEmpty(config[key])) delete config[key];
    for (const key of IMAGE_OPTIONAL_FIELDS) if (isEmpty(out[key])) delete out[key];
  }
  out['Config'] = config;
  return out;
}
