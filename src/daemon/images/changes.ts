// `docker import --change` / `docker commit --change`: a subset of Dockerfile instructions
// applied to an image's container config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
// STOPSIGNAL, USER, VOLUME, WORKDIR), each error naming the bad change.
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';
import type { ContainerConfig } from '../../oci/image.js';

const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const match = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
    const instruction = match?.[1]?.toUpperCase();
    const rest = (match?.[2] ?? '').trim();
    if (instruction === undefined || !ALLOWED.has(instruction)) {
      throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": ${match?.[1] ?? 'empty'} is not a valid change command`,
        { hint: `allowed: ${[...ALLOWED].join(', ')}` });
    }
    if (rest === '' && instruction !== 'CMD' && instruction !== 'ENTRYPOINT') {
      throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": ${instruction} needs an argument`);
    }
    applyOne(config, instruction, rest, change);
  }
  return config;
}

function applyOne(config: ContainerConfig, instruction: string, rest: string, change: string): void {
  switch (instruction) {
    case 'CMD': config.Cmd = commandForm(rest, change); break;
    case 'ENTRYPOINT': config.Entrypoint = rest === '' ? null : commandForm(rest, change); break;
    case 'ENV': {
      const env = [...(config.Env ?? [])];
      for (const [key, value] of keyValues(rest, change, true)) {
        const i = env.findIndex((e) => e.startsWith(`${key}=`));
        if (i >= 0) env[i] = `${key}=${value}`; else env.push(`${key}=${value}`);
      }
      config.Env = env;
      break;
    }
    case 'LABEL': config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(keyValues(rest, change, false)) }; break;
    case 'EXPOSE': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const word of words(rest, change)) ports[exposedPort(word, change)] = {};
      config.ExposedPorts = ports;
      break;
    }
    case 'VOLUME': {
      const volumes = { ...(config.Volumes ?? {}) };
      for (const v of rest.startsWith('[') ? jsonArray(rest, change) : words(rest, change)) volumes[v] = {};
      config.Volumes = volumes;
      break;
    }
    case 'WORKDIR': config.WorkingDir = path.posix.resolve(config.WorkingDir || '/', rest); break;
    case 'USER': config.User = rest; break;
    case 'STOPSIGNAL': config.StopSignal = rest; break;
    case 'ONBUILD': config.OnBuild = [...(config.OnBuild ?? []), rest]; break;
  }
}

function commandForm(rest: string, change: string): string[] {
  if (rest.startsWith('[')) {
    try {
      return jsonArray(rest, change);
    } catch {
      // Docker falls back to the shell form when the JSON does not parse
    }
  }
  return rest === '' ? [] : ['/bin/sh', '-c', rest];
}

function jsonArray(text: string, change: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": not a JSON array of strings`);
  }
  if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === 'string')) {
    throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": not a JSON array of strings`);
  }
  return parsed;
}

/** Shell-like words: quotes group, backslash escapes. */
function words(text: string, change: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": unterminated quote`);
  if (inWord) out.push(current);
  return out;
}

/** `k=v k2="v 2"`, or the legacy `KEY value with spaces` form (ENV and LABEL). */
function keyValues(text: string, change: string, isEnv: boolean): Array<[string, string]> {
  const first = words(text, change);
  if (first.length > 0 && !(first[0] as string).includes('=')) {
    const key = first[0] as string;
    const value = text.slice(text.indexOf(key) + key.length).trim();
    if (value === '' && isEnv) throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": ENV ${key} needs a value`);
    return [[key, words(value, change).join(' ')]];
  }
  return first.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": "${w}" is not key=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function exposedPort(word: string, change: string): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  const valid = (p: string | undefined): boolean => p === undefined || (Number(p) >= 1 && Number(p) <= 65535);
  if (m === null || !valid(m[1]) || !valid(m[2])) throw invalidArgument('INVALID_CHANGE', `invalid change "${change}": invalid port "${word}"`);
  return `${m[1]}${m[2] ? `-${m[2]}` : ''}/${(m[3] ?? 'tcp').toLowerCase()}`;
}
