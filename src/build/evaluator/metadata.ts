// Instructions that only change the image config (no layer): what each does to the config
// and the `#(nop)` history text the classic builder writes for it.
import type { ContainerConfig, Healthcheck } from '../../oci/image.js';
import { invalidArgument } from '../../errors/berth-error.js';
import type { Instruction, CommandForm } from '../parser/instructions.js';
import { syntaxError } from '../parser/parser.js';
import { Expander, goQuotedList, shellOf, withEnv, type StageState } from './stage-state.js';

export interface MetadataStep {
  config: ContainerConfig;
  /** the history text after the shell and `#(nop)` */
  comment: string;
  /** WORKDIR/ADD/COPY use a one-argument nop comment, the rest two arguments */
  singleArgComment: boolean;
  author?: string;
  cmdSet?: boolean;
}

type Meta = Extract<Instruction, { kind: 'env' | 'label' | 'maintainer' | 'expose' | 'cmd' | 'entrypoint' | 'shell' | 'volume' | 'user' | 'stopsignal' | 'healthcheck' | 'onbuild' }>;

export function isMetadataInstruction(i: Instruction): i is Meta {
  return ['env', 'label', 'maintainer', 'expose', 'cmd', 'entrypoint', 'shell', 'volume', 'user', 'stopsignal', 'healthcheck', 'onbuild'].includes(i.kind);
}

function commandLine(command: CommandForm, config: ContainerConfig): string[] {
  if (command.form === 'exec') return command.args;
  if (command.text === '') return [];
  return [...shellOf(config), command.text];
}

const PORT_SPEC = /^(?:(\d+)(?:-(\d+))?)(?:\/(tcp|udp|sctp))?$/i;

/** EXPOSE port[/proto] and ranges -> "port/proto" keys (docker's nat.ParsePortSpecs). */
export function exposedPortKeys(port: string): string[] {
  const match = PORT_SPEC.exec(port);
  if (!match) throw invalidArgument('BUILD_INVALID_PORT', `invalid containerPort: ${port}`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  const proto = (match[3] ?? 'tcp').toLowerCase();
  if (start < 1 || end > 65535 || end < start) throw invalidArgument('BUILD_INVALID_PORT', `invalid port range: ${port}`);
  if (end - start > 65535) throw invalidArgument('BUILD_INVALID_PORT', `invalid port range: ${port}`);
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto}`);
  return keys;
}

function healthcheckConfig(i: Extract<Instruction, { kind: 'healthcheck' }>): Healthcheck {
  const hc: Healthcheck = { Test: i.check.test };
  if (i.check.intervalNs) hc.Interval = i.check.intervalNs;
  if (i.check.timeoutNs) hc.Timeout = i.check.timeoutNs;
  if (i.check.startPeriodNs) hc.StartPeriod = i.check.startPeriodNs;
  if (i.check.startIntervalNs) hc.StartInterval = i.check.startIntervalNs;
  if (i.check.retries) hc.Retries = i.check.retries;
  return hc;
}

/** Go's time.Duration String() for the HEALTHCHECK history text. */
function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function healthcheckComment(hc: Healthcheck): string {
  const test = goQuotedList(hc.Test ?? []);
  const retries = hc.Retries ?? 0;
  const rune = `'\\x${retries.toString(16).padStart(2, '0')}'`;
  return `HEALTHCHECK &{${test} "${goDuration(hc.Interval ?? 0)}" "${goDuration(hc.Timeout ?? 0)}" "${goDuration(hc.StartPeriod ?? 0)}" ${rune}}`;
}

/** Apply one metadata instruction to the stage's config. */
export function dispatchMetadata(i: Meta, state: StageState, expand: Expander): MetadataStep {
  const config: ContainerConfig = { ...(state.image.config ?? {}) };
  const nop = (comment: string, next: ContainerConfig = config): MetadataStep => ({ config: next, comment, singleArgComment: false });
  switch (i.kind) {
    case 'env': {
      let next = config;
      const parts: string[] = [];
      for (const pair of i.pairs) {
        const key = expand.word(pair.key);
        const value = expand.word(pair.value);
        if (key === '') throw syntaxError('ENV names can not be blank', i.line.startLine, i.line.endLine, 'ENV');
        next = withEnv(next, key, value);
        // later pairs of the same line see earlier ones
        state.image = { ...state.image, config: next };
        parts.push(`${key}=${value}`);
      }
      return nop(`ENV ${parts.join(' ')}`, next);
    }
    case 'label': {
      const labels = { ...(config.Labels ?? {}) };
      const parts: string[] = [];
      for (const pair of i.pairs) {
        const key = expand.word(pair.key);
        const value = expand.word(pair.value);
        labels[key] = value;
        parts.push(`${key}=${value}`);
      }
      return nop(`LABEL ${parts.join(' ')}`, { ...config, Labels: labels });
    }
    case 'maintainer':
      return { ...nop(`MAINTAINER ${i.author}`), author: i.author };
    case 'expose': {
      const ports = i.ports.flatMap((p) => expand.words(p));
      const exposed = { ...(config.ExposedPorts ?? {}) };
      for (const port of ports) for (const key of exposedPortKeys(port)) exposed[key] = {};
      // the classic builder prints the ports sorted as strings
      return nop(`EXPOSE ${[...ports].sort().join(' ')}`, { ...config, ExposedPorts: exposed });
    }
    case 'cmd': {
      const cmd = commandLine(i.command, config);
      return { ...nop(`CMD ${goQuotedList(cmd)}`, { ...config, Cmd: cmd }), cmdSet: true };
    }
    case 'entrypoint': {
      const entrypoint = commandLine(i.command, config);
      const next: ContainerConfig = { ...config, Entrypoint: entrypoint };
      // a new ENTRYPOINT drops an inherited CMD unless this stage set one
      if (!state.cmdSet) next.Cmd = null;
      return nop(`ENTRYPOINT ${goQuotedList(entrypoint)}`, next);
    }
    case 'shell':
      return nop(`SHELL [${i.args.join(' ')}]`, { ...config, Shell: i.args });
    case 'volume': {
      const volumes = { ...(config.Volumes ?? {}) };
      const paths = i.paths.map((p) => expand.word(p));
      for (const p of paths) {
        if (p === '') throw syntaxError('VOLUME specified can not be an empty string', i.line.startLine, i.line.endLine, 'VOLUME');
        volumes[p] = {};
      }
      return nop(`VOLUME [${paths.join(' ')}]`, { ...config, Volumes: volumes });
    }
    case 'user': {
      const user = expand.word(i.user);
      return nop(`USER ${user}`, { ...config, User: user });
    }
    case 'stopsignal': {
      const signal = expand.word(i.signal);
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal)) throw syntaxError(`invalid signal: ${signal}`, i.line.startLine, i.line.endLine, 'STOPSIGNAL');
      return nop(`STOPSIGNAL ${signal}`, { ...config, StopSignal: signal });
    }
    case 'healthcheck': {
      const hc = healthcheckConfig(i);
      return nop(healthcheckComment(hc), { ...config, Healthcheck: hc });
    }
    case 'onbuild':
      return nop(`ONBUILD ${i.expression}`, { ...config, OnBuild: [...(config.OnBuild ?? []), i.expression] });
  }
}
