// RUN: the command line (shell form through SHELL, exec form, heredocs), the build args
// it sees, its --mount and --network options, and the history text the classic builder
// writes (`|N ARG=v /bin/sh -c cmd` when build args are in scope).
import { mkdir, mkdtemp, cp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { invalidArgument, notFound } from '../../errors/berth-error.js';
import type { BuildMount } from '../backends.js';
import type { Instruction } from '../parser/instructions.js';
import { parseHeredocMarker } from '../parser/parser.js';
import { cleanSourcePath } from './sources.js';
import { resolveInRoot } from '../context/root-path.js';
import { runBuildArgs, shellOf, type StageState } from './stage-state.js';
import type { SourceRoot } from './copy-step.js';

type RunInstruction = Extract<Instruction, { kind: 'run' }>;

export interface RunPlan {
  args: string[];
  env: string[];
  createdBy: string;
  network: string;
  /** build args in scope, for cache explanations */
  argInputs: Map<string, string>;
  mountSpecs: MountSpec[];
}

export type MountSpec =
  | { type: 'bind'; target: string; source: string; from: string | undefined; readwrite: boolean }
  | { type: 'cache'; target: string; id: string; readonly: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes: number | undefined }
  | { type: 'secret'; target: string; id: string; required: boolean };

function commandArgs(i: RunInstruction, shell: string[]): string[] {
  if (i.command.form === 'exec') return i.command.args;
  const text = i.command.text;
  if (i.heredocs.length === 0) return [...shell, text];
  const first = i.heredocs[0];
  const onlyHeredoc = i.heredocs.length === 1 && first !== undefined && parseHeredocMarker(text.trim())?.name === first.name;
  // a lone heredoc is the script itself; otherwise the shell sees the heredocs as written
  if (onlyHeredoc) return [...shell, first.content];
  return [...shell, i.heredocs.reduce((full, h) => `${full}\n${h.content}${h.name}`, text)];
}

const NETWORKS = new Set(['default', 'none', 'host']);

function parseSize(text: string): number {
  const match = /^(\d+)([kmgt]?)b?$/i.exec(text);
  if (!match) throw invalidArgument('BUILD_BAD_MOUNT', `invalid size in --mount: ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** `--mount=type=cache,target=/root/.cache` and friends (BuildKit's syntax). */
export function parseMountFlag(text: string, workdir: string): MountSpec {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    fields.set(key, eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'bind';
  const rawTarget = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  const bool = (name: string): boolean => ['true', '1', ''].includes((fields.get(name) ?? 'false').toLowerCase());
  const target = (t: string): string => (path.posix.isAbsolute(t) ? t : path.posix.join(workdir, t));
  switch (type) {
    case 'bind':
      if (!rawTarget) throw invalidArgument('BUILD_BAD_MOUNT', `--mount=${text}: a bind mount needs target=`);
      return { type, target: target(rawTarget), source: fields.get('source') ?? fields.get('src') ?? '.', from: fields.get('from'), readwrite: bool('rw') || bool('readwrite') };
    case 'cache':
      if (!rawTarget) throw invalidArgument('BUILD_BAD_MOUNT', `--mount=${text}: a cache mount needs target=`);
      return { type, target: target(rawTarget), id: fields.get('id') ?? target(rawTarget), readonly: bool('ro') || bool('readonly') };
    case 'tmpfs':
      if (!rawTarget) throw invalidArgument('BUILD_BAD_MOUNT', `--mount=${text}: a tmpfs mount needs target=`);
      return { type, target: target(rawTarget), sizeBytes: fields.has('size') ? parseSize(fields.get('size') ?? '') : undefined };
    case 'secret': {
      const id = fields.get('id') ?? (rawTarget ? path.posix.basename(rawTarget) : undefined);
      if (!id) throw invalidArgument('BUILD_BAD_MOUNT', `--mount=${text}: a secret mount needs id= or target=`);
      return { type, target: rawTarget ? target(rawTarget) : `/run/secrets/${id}`, id, required: bool('required') };
    }
    default:
      throw invalidArgument('BUILD_BAD_MOUNT', `--mount=${text}: unsupported mount type "${type}" (bind, cache, tmpfs and secret are supported)`);
  }
}

export function planRun(i: RunInstruction, state: StageState, proxyArgs: ReadonlyMap<string, string>, expandFlag: (s: string) => string): RunPlan {
  const config = state.image.config ?? {};
  const args = commandArgs(i, shellOf(config));
  const allArgs = runBuildArgs(state, proxyArgs, false);
  const shown = runBuildArgs(state, proxyArgs, true).sort();
  const createdBy = allArgs.length > 0 ? [`|${shown.length}`, ...shown, ...args].join(' ') : args.join(' ');
  const network = i.network === undefined ? 'default' : expandFlag(i.network);
  if (!NETWORKS.has(network)) throw invalidArgument('BUILD_BAD_NETWORK', `RUN --network=${network}: want default, none or host`);
  const argInputs = new Map(allArgs.map((kv) => [`arg:${kv.split('=', 1)[0] ?? ''}`, kv.slice(kv.indexOf('=') + 1)]));
  const workdir = config.WorkingDir || '/';
  const mountSpecs = i.mounts.map((m) => parseMountFlag(expandFlag(m), workdir));
  return { args, env: [...(config.Env ?? []), ...allArgs], createdBy, network, argInputs, mountSpecs };
}

export interface MountEnvironment {
  context: SourceRoot;
  openFrom(name: string): Promise<SourceRoot>;
  /** where cache mounts persist between builds */
  cacheMountDir: string;
  secrets: ReadonlyMap<string, string>;
}

/** Turn mount specs into host mounts; returns a cleanup for what was opened. */
export async function materializeMounts(specs: MountSpec[], env: MountEnvironment): Promise<{ mounts: BuildMount[]; release: () => Promise<void> }> {
  const mounts: BuildMount[] = [];
  const releases: Array<() => Promise<void>> = [];
  const release = async (): Promise<void> => { for (const r of releases.splice(0).reverse()) await r(); };
  try {
    for (const spec of specs) {
      if (spec.type === 'tmpfs') { mounts.push({ type: 'tmpfs', target: spec.target, sizeBytes: spec.sizeBytes }); continue; }
      if (spec.type === 'cache') {
        const dir = path.join(env.cacheMountDir, createHash('sha256').update(spec.id).digest('hex').slice(0, 32));
        await mkdir(dir, { recursive: true });
        mounts.push({ type: 'bind', source: dir, target: spec.target, readonly: spec.readonly });
        continue;
      }
      if (spec.type === 'secret') {
        const file = env.secrets.get(spec.id);
        if (file === undefined) {
          if (spec.required) throw notFound('BUILD_SECRET_NOT_FOUND', `secret ${spec.id} was not provided to the build`);
          continue;
        }
        mounts.push({ type: 'bind', source: file, target: spec.target, readonly: true });
        continue;
      }
      const from = spec.from === undefined ? env.context : await env.openFrom(spec.from);
      await from.materialize?.();
      if (spec.from !== undefined) releases.push(() => from.release());
      let source = await resolveInRoot(from.root, cleanSourcePath(spec.source));
      if (spec.readwrite) {
        // writes to a rw bind mount are thrown away, as BuildKit does: work on a copy
        const scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-build-bind-'));
        releases.push(() => rm(scratch, { recursive: true, force: true }));
        await cp(source, path.join(scratch, 'src'), { recursive: true, verbatimSymlinks: true });
        source = path.join(scratch, 'src');
      }
      mounts.push({ type: 'bind', source, target: spec.target, readonly: !spec.readwrite });
    }
    return { mounts, release };
  } catch (err) {
    await release();
    throw err;
  }
}
