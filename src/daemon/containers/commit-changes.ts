// `docker commit --change` and `docker import --change`: the Dockerfile instructions that
// only touch the image config, applied to a container config.
import { invalidArgument } from '../../errors/berth-error.js';
import type { ContainerConfig as ImageContainerConfig } from '../../oci/image.js';

function jsonOrShell(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed as string[];
    } catch {
      // not JSON: the shell form below
    }
  }
  return ['/bin/sh', '-c', trimmed];
}

function keyValues(args: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  if (!args.includes('=')) {
    const [key = '', ...rest] = args.trim().split(/\s+/);
    return [[key, rest.join(' ')]];
  }
  for (const match of args.matchAll(re)) {
    const raw = match[2] ?? '';
    pairs.push([match[1] ?? '', raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return pairs;
}

export function applyChanges(config: ImageContainerConfig, changes: readonly string[]): ImageContainerConfig {
  const out: ImageContainerConfig = { ...config };
  for (const change of changes) {
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    if (!match?.[1]) throw invalidArgument('BAD_CHANGE', `invalid change: ${change}`);
    const instruction = match[1].toUpperCase();
    const args = match[2] ?? '';
    switch (instruction) {
      case 'CMD': out.Cmd = jsonOrShell(args); break;
      case 'ENTRYPOINT': out.Entrypoint = jsonOrShell(args); break;
      case 'ENV': {
        const env = new Map((out.Env ?? []).map((e) => [e.split('=')[0] ?? e, e]));
        for (const [k, v] of keyValues(args)) env.set(k, `${k}=${v}`);
        out.Env = [...env.values()];
        break;
      }
      case 'LABEL': out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(args)) }; break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of args.trim().split(/\s+/)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        out.ExposedPorts = ports;
        break;
      }
      case 'USER': out.User = args.trim(); break;
      case 'WORKDIR': out.WorkingDir = args.trim(); break;
      case 'STOPSIGNAL': out.StopSignal = args.trim(); break;
      case 'VOLUME': {
        const volumes = { ...(out.Volumes ?? {}) };
        for (const v of args.trim().startsWith('[') ? jsonOrShell(args) : args.trim().split(/\s+/)) volumes[v] = {};
        out.Volumes = volumes;
        break;
      }
      case 'ONBUILD': out.OnBuild = [...(out.OnBuild ?? []), args.trim()]; break;
      default: throw invalidArgument('BAD_CHANGE', `${instruction} is not a valid change command`);
    }
  }
  return out;
}
