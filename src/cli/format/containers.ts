// docker's container formatter fields (cli/command/formatter/container.go): what
// {{.ID}}, {{.Command}}, {{.Ports}}... print for one container.
import type { ContainerSummary } from '../../client/types.js';
import { ago, goTime, humanSize } from './units.js';
import type { ListSpec } from './render.js';

export const CONTAINER_SPEC: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {
    ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Status: 'STATUS',
    Ports: 'PORTS', Names: 'NAMES', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', State: 'STATE',
    LocalVolumes: 'LOCAL VOLUMES', Label: 'LABEL',
  },
  typeName: '*formatter.ContainerContext',
};

/** Ellipsis as docker's formatter: cut to width-1 runes and add "…" */
export function ellipsis(text: string, width: number): string {
  const runes = [...text];
  return runes.length <= width ? text : `${runes.slice(0, width - 1).join('')}…`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

type Port = NonNullable<ContainerSummary['Ports']>[number];

/** DisplayablePorts: "0.0.0.0:8080->80/tcp, 443/tcp", with consecutive ports folded into ranges */
export function displayPorts(ports: readonly Port[]): string {
  const groups = new Map<string, number[]>();
  const order: string[] = [];
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort);
  for (const p of sorted) {
    const ip = p.IP ?? '';
    const key = p.PublicPort === undefined ? `/${p.Type}` : `${ip.includes(':') ? `[${ip}]` : ip}:${p.PublicPort - p.PrivatePort}/${p.Type}`;
    if (!groups.has(key)) { groups.set(key, []); order.push(key); }
    groups.get(key)?.push(p.PrivatePort);
  }
  const out: string[] = [];
  for (const key of order) {
    const privs = groups.get(key) ?? [];
    const [hostPart, proto] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    for (const [start, end] of ranges(privs)) {
      const priv = start === end ? `${start}` : `${start}-${end}`;
      if (hostPart === '') { out.push(`${priv}/${proto}`); continue; }
      const colon = hostPart.lastIndexOf(':');
      const offset = Number(hostPart.slice(colon + 1));
      const pub = start === end ? `${start + offset}` : `${start + offset}-${end + offset}`;
      out.push(`${hostPart.slice(0, colon)}:${pub}->${priv}/${proto}`);
    }
  }
  return out.join(', ');
}

function ranges(sortedPorts: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const port of [...new Set(sortedPorts)]) {
    const last = out[out.length - 1];
    if (last !== undefined && port === last[1] + 1) last[1] = port;
    else out.push([port, port]);
  }
  return out;
}

function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
}

export function containerRow(c: ContainerSummary, trunc: boolean, now = Date.now()): Record<string, unknown> {
  let names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  if (trunc) names = names.filter((n) => !n.includes('/'));
  let image = c.Image;
  if (trunc) {
    if (c.ImageID !== undefined && shortId(c.ImageID) === shortId(image)) image = shortId(image);
    const at = image.indexOf('@');
    if (at > 0) image = image.slice(0, at);
  }
  const mounts = (c.Mounts ?? []).map((m) => (typeof m === 'object' && m !== null && 'Name' in m && typeof m.Name === 'string' && m.Name !== '' ? m.Name
    : typeof m === 'object' && m !== null && 'Source' in m && typeof m.Source === 'string' ? m.Source : ''));
  const row: Record<string, unknown> = {
    ID: trunc ? shortId(c.Id) : c.Id,
    Image: image,
    Command: JSON.stringify(trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? ''),
    CreatedAt: goTime(c.Created),
    RunningFor: ago(c.Created, now),
    Ports: displayPorts(c.Ports ?? []),
    State: c.State ?? '',
    Status: c.Status ?? '',
    Size: (c.SizeRootFs ?? 0) > 0 ? `${humanSize(c.SizeRw ?? 0)} (virtual ${humanSize(c.SizeRootFs ?? 0)})` : humanSize(c.SizeRw ?? 0),
    // the docker CLI of API 1.46+ shows the image platform; older daemons have none
    Platform: null,
    Names: names.join(','),
    Labels: labelsText(c.Labels),
    Mounts: mounts.map((m) => (trunc ? ellipsis(m, 15) : m)).join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => typeof m === 'object' && m !== null && 'Driver' in m && m.Driver === 'local').length),
  };
  Object.defineProperty(row, 'Label', { value: (name: unknown) => c.Labels?.[String(name)] ?? '', enumerable: false });
  return row;
}
