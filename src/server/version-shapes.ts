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

type UsageKind = 'ImageUsage' | 'ContainerUsage' | 'VolumeUsage' | 'BuildCacheUsage';
const LEGACY_DF: Record<string, UsageKind> = { Images: 'ImageUsage', Containers: 'ContainerUsage', Volumes: 'VolumeUsage', BuildCache: 'BuildCacheUsage' };

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/** ActiveCount, TotalCount, Reclaimable, TotalSize of one legacy /system/df list, as dockerd counts them. */
function usageOf(kind: UsageKind, items: Json[], layersSize: number): Json {
  const active = (item: Json): boolean => {
    if (kind === 'ImageUsage') return num(item['Containers']) > 0;
    if (kind === 'ContainerUsage') return item['State'] === 'running' || item['State'] === 'paused' || item['State'] === 'restarting';
    if (kind === 'VolumeUsage') return isObject(item['UsageData']) && num(item['UsageData']['RefCount']) > 0;
    return item['InUse'] === true;
  };
  const size = (item: Json): number => {
    if (kind === 'ImageUsage') return num(item['Size']) - num(item['SharedSize']);
    if (kind === 'ContainerUsage') return num(item['SizeRw']);
    if (kind === 'VolumeUsage') return isObject(item['UsageData']) ? num(item['UsageData']['Size']) : 0;
    return num(item['Size']);
  };
  const activeItems = items.filter(active);
  const total = kind === 'ImageUsage' ? layersSize : items.reduce((sum, item) => sum + size(item), 0);
  const reclaimable = kind === 'ImageUsage' ? Math.max(0, total - activeItems.reduce((sum, item) => sum + size(item), 0))
    : items.filter((item) => !active(item)).reduce((sum, item) => sum + size(item), 0);
  return { ActiveCount: activeItems.length, TotalCount: items.length, Reclaimable: reclaimable, TotalSize: total };
}

/**
 * GET /system/df: VirtualSize until 1.43; from 1.52 the per-type usage summaries (their Items with
 * verbose=1), beside the legacy lists in 1.52 (not when verbose) and instead of them from 1.53.
 */
export function shapeDiskUsage(body: Json, version: string, verbose: boolean): Json {
  const out: Json = { ...body };
  if (versionAtLeast(version, '1.44') && Array.isArray(out['Images'])) {
    out['Images'] = out['Images'].map((image: unknown) => {
      if (!isObject(image)) return image;
      const { VirtualSize: _virtual, ...rest } = image;
      return rest;
    });
  }
  if (!versionAtLeast(version, '1.52')) return out;
  const legacyKept = !verbose && !versionAtLeast(version, '1.53');
  for (const [legacy, kind] of Object.entries(LEGACY_DF)) {
    const items = out[legacy];
    if (!Array.isArray(items)) continue;
    const list = items.filter(isObject);
    out[kind] = { ...usageOf(kind, list, num(body['LayersSize'])), ...(verbose ? { Items: list } : {}) };
    if (!legacyKept) delete out[legacy];
  }
  if (!legacyKept) delete out['LayersSize'];
  return out;
}

/** GET /info: the fields deprecated and then omitted (RegistryConfig's nondistributable lists from 1.49, BridgeNf* from 1.50). */
export function shapeInfo(body: Json, version: string): Json {
  const out: Json = { ...body };
  if (versionAtLeast(version, '1.49') && isObject(out['RegistryConfig'])) {
    const { AllowNondistributableArtifactsCIDRs: _cidrs, AllowNondistributableArtifactsHostnames: _hosts, ...registry } = out['RegistryConfig'];
    out['RegistryConfig'] = registry;
  }
  if (versionAtLeast(version, '1.50')) {
    delete out['BridgeNfIptables'];
    delete out['BridgeNfIp6tables'];
  } else {
    // always false since 1.48 (the module is loaded when a network needs it)
    out['BridgeNfIptables'] ??= false;
    out['BridgeNfIp6tables'] ??= false;
  }
  return out;
}
