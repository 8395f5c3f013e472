// The state of one stage while it builds: the image so far, the ARG scope, and the
// variables docker expands words with (ENV wins over ARG of the same name).
import type { ContainerConfig, ImageConfig } from '../../oci/image.js';
import type { Stage } from '../parser/instructions.js';
import { processWord, processWords, processWordTracked, type VariableLookup } from '../parser/shell-words.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Args docker accepts from --build-arg without an ARG line; kept out of history unless declared. */
export const PROXY_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

export interface StageState {
  stage: Stage;
  /** id of the last stored image of this stage (undefined only for scratch before any step) */
  imageId: string | undefined;
  image: ImageConfig;
  /** ARGs declared in this stage -> value (undefined when declared without value) */
  args: Map<string, string | undefined>;
  /** args that were referenced by a word or a RUN environment */
  usedArgs: Set<string>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it) */
  cmdSet: boolean;
  escape: string;
}

export function containerConfig(state: StageState): ContainerConfig {
  return state.image.config ?? {};
}

export function envMap(config: ContainerConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq < 0) map.set(entry, '');
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return map;
}

/** ENV, then the stage's ARG values, then (only when named) the build's proxy args. */
export function stageLookup(state: StageState, proxyArgs: ReadonlyMap<string, string>): VariableLookup {
  const env = envMap(containerConfig(state));
  return (name) => {
    const fromEnv = env.get(name);
    if (fromEnv !== undefined) return fromEnv;
    if (state.args.has(name)) {
      state.usedArgs.add(name);
      return state.args.get(name);
    }
    return proxyArgs.get(name);
  };
}

export class Expander {
  constructor(private readonly state: StageState, private readonly proxyArgs: ReadonlyMap<string, string>) {}

  word(text: string): string {
    return processWord(text, stageLookup(this.state, this.proxyArgs), this.state.escape);
  }

  words(text: string): string[] {
    return processWords(text, stageLookup(this.state, this.proxyArgs), this.state.escape);
  }

  tracked(text: string): { value: string; used: Set<string> } {
    return processWordTracked(text, stageLookup(this.state, this.proxyArgs), this.state.escape);
  }

  optional(text: string | undefined): string | undefined {
    return text === undefined ? undefined : this.word(text);
  }
}

/**
 * The build args a RUN sees (moby BuildArgs.FilterAllowed): declared ARGs with a value and
 * proxy args, minus those an ENV of the same name overrides. `forHistory` keeps the proxy
 * args only when the stage declared them.
 */
export function runBuildArgs(state: StageState, proxyArgs: ReadonlyMap<string, string>, forHistory: boolean): string[] {
  const env = envMap(containerConfig(state));
  const out: string[] = [];
  for (const [key, value] of state.args) {
    if (value === undefined || env.has(key)) continue;
    out.push(`${key}=${value}`);
  }
  if (!forHistory) {
    for (const [key, value] of proxyArgs) {
      if (!state.args.has(key) && !env.has(key)) out.push(`${key}=${value}`);
    }
  }
  return out;
}

export function withEnv(config: ContainerConfig, key: string, value: string): ContainerConfig {
  const env = (config.Env ?? []).filter((e) => e.split('=', 1)[0] !== key);
  const index = (config.Env ?? []).findIndex((e) => e.split('=', 1)[0] === key);
  const entry = `${key}=${value}`;
  if (index >= 0) env.splice(index, 0, entry);
  else env.push(entry);
  return { ...config, Env: env };
}

/** The shell of shell-form instructions: SHELL if set, else /bin/sh -c. */
export function shellOf(config: ContainerConfig): string[] {
  return config.Shell && config.Shell.length > 0 ? [...config.Shell] : [...DEFAULT_SHELL];
}

/** Go's %q of a string slice, as the classic builder prints CMD/ENTRYPOINT in history. */
export function goQuotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}
