// Runs a parsed Dockerfile against the backends: stages the target needs (independent ones
// concurrently), each instruction as a step that is looked up in the cache first, the
// classic builder's output stream, and one stored image per step as docker does.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { invalidArgument, notFound, BerthError, withCleanup } from '../../errors/berth-error.js';
import type { ContainerConfig, ImageConfig } from '../../oci/image.js';
import type { BuildBackends, BuildEvent, BuildImage, WritableRoot } from '../backends.js';
import { parseStages, parseInstruction, type Dockerfile, type Instruction, type Stage } from '../parser/instructions.js';
import { parseDockerfile } from '../parser/parser.js';
import { processWord } from '../parser/shell-words.js';
import { parseDigest } from '../../oci/digest.js';
import type { BuildCache, StepIdentity } from '../cache/build-cache.js';
import { matchCacheSource, restoredConfig } from '../cache/cache-from.js';
import type { BuildContext } from '../context/context.js';
import { dispatchMetadata, isMetadataInstruction } from './metadata.js';
import { planCopy, type SourceRoot } from './copy-step.js';
import { planRun, materializeMounts } from './run-step.js';
import { mkdirInRoot } from './file-copy.js';
import { DEFAULT_PATH, Expander, PROXY_ARGS, envMap, type StageState } from './stage-state.js';
import { StageSlots } from './stage-slots.js';
import type { PhaseTimer } from '../../util/phase-timer.js';

/** Independent stages that build at the same time, at most (RUN containers and layer diffs are heavy). */
export const PARALLEL_STAGES = 2;

export interface BuildRequest {
  dockerfile: string;
  context: BuildContext;
  buildArgs: Record<string, string | undefined>;
  tags: string[];
  target: string | undefined;
  labels: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  platform: string | undefined;
  /** the build's default network for RUN (`default`, `none`, `host`) */
  network: string | undefined;
  /** secret id -> host file */
  secrets: Record<string, string>;
  /** stream a line per step saying why the cache missed (`--progress=plain`) */
  explainCache: boolean;
  /** `--cache-from`: local images whose history counts as cache (see cache/cache-from.ts) */
  cacheFrom?: string[];
}

export interface BuilderEnvironment {
  backends: BuildBackends;
  cache: BuildCache | undefined;
  /** where RUN --mount=type=cache directories live */
  cacheMountDir: string;
  now?: () => Date;
  /** phases of the build (steps, tagging), for the daemon's debug log */
  trace?: PhaseTimer;
}

export interface BuildResult {
  imageId: string;
  /** build args given but never declared (docker warns about them) */
  unusedArgs: string[];
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

interface StageResult { image: BuildImage }

class Build {
  private readonly stageResults = new Map<number, Promise<StageResult>>();
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly proxyArgs = new Map<string, string>();
  private readonly consumedArgs = new Set<string>();
  private readonly stepNumbers = new Map<Instruction, number>();
  private readonly totalSteps: number;
  private readonly slots = new StageSlots(PARALLEL_STAGES);
  /** the --cache-from images, looked up once; after a hit only that image is followed (as moby does) */
  private cacheSources: Promise<BuildImage[]> | undefined;

  constructor(private readonly file: Dockerfile, private readonly request: BuildRequest,
    private readonly env: BuilderEnvironment, private readonly emit: (e: BuildEvent) => void) {
    let n = 0;
    for (const arg of file.globalArgs) this.stepNumbers.set(arg, ++n);
    for (const stage of file.stages) {
      this.stepNumbers.set(stage.from, ++n);
      for (const i of stage.instructions) this.stepNumbers.set(i, ++n);
    }
    this.totalSteps = n;
    for (const [key, value] of Object.entries(request.buildArgs)) {
      if (PROXY_ARGS.has(key) && value !== undefined) { this.proxyArgs.set(key, value); this.consumedArgs.add(key); }
    }
  }

  private say(text: string): void { this.emit({ type: 'stream', text }); }

  private announce(i: Instruction): void {
    this.say(`Step ${this.stepNumbers.get(i) ?? '?'}/${this.totalSteps} : ${i.line.original}\n`);
  }

  async run(): Promise<BuildResult> {
    for (const arg of this.file.globalArgs) {
      this.announce(arg);
      for (const { key, value } of arg.args) {
        const given = this.request.buildArgs[key];
        if (given !== undefined) this.consumedArgs.add(key);
        const lookup = (name: string): string | undefined => this.globalArgs.get(name) ?? undefined;
        this.globalArgs.set(key, given ?? (value === undefined ? undefined : processWord(value, lookup, this.file.escape)));
      }
    }
    const target = this.targetStage();
    let result: StageResult;
    try {
      result = await this.buildStage(target.index);
    } catch (err) {
      // stages started concurrently finish (and release their roots) before the build fails
      await Promise.allSettled([...this.stageResults.values()]);
      throw err;
    }
    const unusedArgs = Object.keys(this.request.buildArgs).filter((k) => !this.consumedArgs.has(k));
    if (unusedArgs.length > 0) this.say(`[Warning] One or more build-args [${unusedArgs.join(' ')}] were not consumed\n`);
    this.emit({ type: 'aux', id: result.image.id });
    this.say(`Successfully built ${shortId(result.image.id)}\n`);
    for (const tag of this.request.tags) {
      await this.env.backends.images.tag(result.image.id, tag);
      this.say(`Successfully tagged ${tag.includes(':') && !tag.endsWith(']') ? tag : `${tag}:latest`}\n`);
    }
    this.env.trace?.mark('tag');
    return { imageId: result.image.id, unusedArgs };
  }

  private targetStage(): Stage {
    const { target } = this.request;
    const last = this.file.stages[this.file.stages.length - 1];
    if (target === undefined || target === '') return last as Stage;
    const found = this.file.stages.find((s) => s.name === target.toLowerCase());
    if (!found) throw notFound('BUILD_TARGET_NOT_FOUND', `failed to reach build target ${target} in Dockerfile`);
    return found;
  }

  private findStage(name: string, before: number): Stage | undefined {
    const lower = name.toLowerCase();
    const byName = this.file.stages.find((s) => s.index < before && s.name === lower);
    if (byName) return byName;
    if (/^\d+$/.test(name)) return this.file.stages.find((s) => s.index === Number(name) && s.index < before);
    return undefined;
  }

  private buildStage(index: number): Promise<StageResult> {
    let pending = this.stageResults.get(index);
    if (!pending) {
      const stage = this.file.stages[index];
      if (!stage) throw internalStageError(index);
      pending = this.executeStage(stage);
      this.stageResults.set(index, pending);
      // stages this one needs start now, so independent stages build concurrently
      for (const dep of this.dependencies(stage)) void this.buildStage(dep).catch(() => undefined);
    }
    return pending;
  }

  private dependencies(stage: Stage): number[] {
    const names = [stage.from.image];
    for (const i of stage.instructions) {
      if ((i.kind === 'copy' || i.kind === 'add') && i.from !== undefined) names.push(i.from);
    }
    const deps = new Set<number>();
    for (const name of names) {
      const found = this.findStage(name, stage.index);
      if (found) deps.add(found.index);
    }
    return [...deps];
  }

  /** An image or an earlier stage by name, for FROM and --from. */
  private async imageOrStage(name: string, before: number): Promise<BuildImage> {
    const stage = this.findStage(name, before);
    if (stage) return (await this.slots.without(() => this.buildStage(stage.index))).image;
    return this.env.backends.images.resolve(name, {
      pull: this.request.pull, platform: this.request.platform, onProgress: (text) => this.say(text),
    });
  }

  private async executeStage(stage: Stage): Promise<StageResult> {
    await this.slots.acquire();
    try {
      return await this.executeStageSteps(stage);
    } finally {
      this.slots.release();
    }
  }

  private async executeStageSteps(stage: Stage): Promise<StageResult> {
    this.announce(stage.from);
    const lookup = (name: string): string | undefined => this.globalArgs.get(name) ?? undefined;
    const baseName = processWord(stage.from.image, lookup, this.file.escape);
    if (baseName === '') throw invalidArgument('BUILD_BLANK_BASE', `base name (${stage.from.image}) should not be blank (line ${stage.from.line.startLine})`);
    const base = baseName.toLowerCase() === 'scratch' ? undefined : await this.imageOrStage(baseName, stage.index);
    this.env.trace?.mark(`step ${this.stepNumbers.get(stage.from) ?? '?'} from`);
    const state: StageState = {
      stage, imageId: base?.id, image: structuredClone(base?.config ?? scratchConfig()),
      args: new Map(), usedArgs: new Set(), cmdSet: false, escape: this.file.escape,
    };
    const config = state.image.config ?? {};
    if (!envMap(config).has('PATH')) state.image.config = { ...config, Env: [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`] };
    this.say(` ---> ${base ? shortId(base.id) : ''}\n`);
    await this.runTriggers(state);
    const instructions = [...stage.instructions];
    if (stage.index === this.targetStage().index) instructions.push(...this.labelInstructions());
    for (const i of instructions) {
      this.announce(i);
      await this.step(state, i);
      this.env.trace?.mark(`step ${this.stepNumbers.get(i) ?? '?'} ${i.kind}`);
    }
    if (!state.imageId) {
      // FROM scratch with no steps: store the empty image so the build has a result
      state.imageId = await this.env.backends.images.store(state.image, undefined);
    }
    return { image: { id: state.imageId, config: state.image } };
  }

  private labelInstructions(): Instruction[] {
    const entries = Object.entries(this.request.labels);
    if (entries.length === 0) return [];
    const text = `LABEL ${entries.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}`;
    return parseDockerfile(text).lines.map((line) => parseInstruction(line, '\\'));
  }

  private async runTriggers(state: StageState): Promise<void> {
    const triggers = state.image.config?.OnBuild ?? [];
    if (triggers.length === 0) return;
    this.say(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
    state.image.config = { ...state.image.config, OnBuild: null };
    for (const text of triggers) {
      const line = parseDockerfile(text).lines[0];
      if (!line) continue;
      const trigger = parseInstruction({ ...line, startLine: state.stage.from.line.startLine, endLine: state.stage.from.line.endLine }, this.file.escape);
      if (trigger.kind === 'onbuild' || trigger.kind === 'from') throw invalidArgument('BUILD_BAD_TRIGGER', `invalid ONBUILD trigger in base image: ${text}`);
      await this.step(state, trigger);
    }
  }

  private expander(state: StageState): Expander { return new Expander(state, this.proxyArgs); }

  private declareArgs(state: StageState, i: Extract<Instruction, { kind: 'arg' }>): string {
    const parts: string[] = [];
    for (const { key, value } of i.args) {
      const given = this.request.buildArgs[key];
      if (given !== undefined) this.consumedArgs.add(key);
      const expanded = value === undefined ? undefined : this.expander(state).word(value);
      const inherited = this.globalArgs.has(key) ? this.globalArgs.get(key) : undefined;
      state.args.set(key, given ?? expanded ?? inherited);
      parts.push(expanded === undefined ? key : `${key}=${expanded}`);
    }
    return `ARG ${parts.join(' ')}`;
  }

  /** One instruction: compute what it would produce, reuse the cache or execute, store the image. */
  private async step(state: StageState, i: Instruction): Promise<void> {
    const stepNo = this.stepNumbers.get(i) ?? 0;
    if (i.kind === 'from') throw invalidArgument('BUILD_BAD_INSTRUCTION', 'FROM inside a stage');
    if (i.kind === 'arg') {
      await this.commitStep(state, i, stepNo, this.declareArgs(state, i), false, undefined, new Map());
      return;
    }
    if (isMetadataInstruction(i)) {
      const result = dispatchMetadata(i, state, this.expander(state));
      state.image = { ...state.image, config: result.config };
      if (result.cmdSet) state.cmdSet = true;
      if (result.author !== undefined) state.image.author = result.author;
      await this.commitStep(state, i, stepNo, result.comment, false, undefined, new Map());
      return;
    }
    if (i.kind === 'workdir') {
      const config = state.image.config ?? {};
      const dir = this.expander(state).word(i.path);
      const workdir = path.posix.isAbsolute(dir) ? path.posix.normalize(dir) : path.posix.join(config.WorkingDir || '/', dir);
      state.image = { ...state.image, config: { ...config, WorkingDir: workdir } };
      await this.commitStep(state, i, stepNo, `WORKDIR ${workdir}`, true, async (root) => {
        await mkdirInRoot(root.path, workdir, { uid: 0, gid: 0 });
      }, new Map());
      return;
    }
    if (i.kind === 'run') {
      await this.runStep(state, i, stepNo);
      return;
    }
    const plan = await planCopy(i, state, this.expander(state), this.copyEnvironment(state));
    await withCleanup(async () => {
      await this.commitStep(state, i, stepNo, plan.comment, true, (root) => plan.apply(root.path), plan.inputs);
    }, plan.cleanup);
    await plan.cleanup();
  }

  private copyEnvironment(state: StageState): { context: SourceRoot; openFrom: (n: string) => Promise<SourceRoot>; fetch: typeof fetch; proxyArgs: Map<string, string> } {
    return {
      context: {
        root: this.request.context.root, ignore: this.request.context.ignore, release: async () => undefined,
        ...(this.request.context.knownDigest ? { knownDigest: this.request.context.knownDigest.bind(this.request.context) } : {}),
        ...(this.request.context.index ? { index: this.request.context.index } : {}),
        materialize: () => this.request.context.materialize(),
      },
      openFrom: (name) => this.openFrom(name, state.stage.index),
      fetch: this.env.backends.fetch ?? fetch,
      proxyArgs: this.proxyArgs,
    };
  }

  private async openFrom(name: string, before: number): Promise<SourceRoot> {
    const image = await this.imageOrStage(name, before);
    const root = await this.env.backends.rootfs.prepare(image.id, `copy from ${name}`);
    return { root: root.path, ignore: undefined, release: () => root.release() };
  }

  /** A --cache-from image whose history continues the parent's with this command. */
  private async fromCacheSources(state: StageState, createdBy: string): Promise<BuildImage | undefined> {
    const names = this.request.cacheFrom ?? [];
    if (names.length === 0) return undefined;
    this.cacheSources ??= (async () => {
      const found: BuildImage[] = [];
      for (const name of names) {
        const image = await this.env.backends.images.find(name);
        if (image) found.push(image);
        else this.say(`[Warning] cache source ${name} is not a local image, skipping\n`);
      }
      return found;
    })();
    const parent = state.imageId === undefined ? undefined : state.image;
    const match = matchCacheSource(parent, createdBy, await this.cacheSources);
    if (!match) return undefined;
    this.cacheSources = Promise.resolve([match.source]);
    if (match.last) return match.source;
    const config = restoredConfig(parent ?? scratchConfig(), state.image.config ?? {}, match);
    const id = await this.env.backends.images.store(config, state.imageId, match.source.id);
    return { id, config };
  }

  private async runStep(state: StageState, i: Extract<Instruction, { kind: 'run' }>, stepNo: number): Promise<void> {
    const plan = planRun(i, state, this.proxyArgs, (s) => this.expander(state).word(s));
    for (const key of state.args.keys()) if (plan.createdBy.includes(key)) state.usedArgs.add(key);
    const network = i.network === undefined ? this.request.network ?? 'default' : plan.network;
    const config = state.image.config ?? {};
    await this.commitStep(state, i, stepNo, plan.createdBy, true, async (root) => {
      const mountEnv = { ...this.copyEnvironment(state), cacheMountDir: this.env.cacheMountDir, secrets: new Map(Object.entries(this.request.secrets)) };
      const { mounts, release } = await materializeMounts(plan.mountSpecs, mountEnv);
      await withCleanup(async () => {
        const id = randomBytes(32).toString('hex');
        this.say(` ---> Running in ${id.slice(0, 12)}\n`);
        const { exitCode } = await this.env.backends.runner.run({
          id, root, args: plan.args, env: plan.env, user: config.User ?? '', workingDir: config.WorkingDir || '/',
          network, mounts, onOutput: (chunk) => this.say(Buffer.from(chunk).toString('utf8')),
        });
        this.say(`Removing intermediate container ${id.slice(0, 12)}\n`);
        if (exitCode !== 0) {
          throw new BerthError('invalid_argument', 'BUILD_RUN_FAILED',
            `The command '${plan.args.join(' ')}' returned a non-zero code: ${exitCode}`, { detail: { exitCode, line: i.line.startLine } });
        }
      }, release);
      await release();
    }, plan.argInputs, `${network}\n${JSON.stringify(plan.mountSpecs)}`);
  }

  /**
   * Finish a step: the history text is `<shell> #(nop) <comment>` for metadata steps and the
   * command for RUN. `execute` (when given) changes a writable root whose diff becomes the layer.
   */
  private async commitStep(state: StageState, i: Instruction, stepNo: number, comment: string, singleArgOrRun: boolean,
    execute: ((root: WritableRoot) => Promise<void>) | undefined, inputs: Map<string, string>, extra = ''): Promise<void> {
    const config = state.image.config ?? {};
    const createdBy = i.kind === 'run' ? comment : nopCommand(config, comment, singleArgOrRun);
    const identity: StepIdentity = {
      parent: state.imageId ?? 'scratch',
      instruction: i.line.original,
      definition: `${createdBy}\n${canonicalConfig(config)}\n${state.image.author ?? ''}\n${extra}`,
      inputs,
    };
    if (await this.reuseCached(state, identity, stepNo, i, createdBy)) return;
    let layer: { diffId: string; size: number } | undefined;
    if (execute) {
      const root = await this.env.backends.rootfs.prepare(state.imageId, `build step ${stepNo}`);
      layer = await withCleanup(async () => {
        await execute(root);
        return root.commit();
      }, () => root.release());
      await root.release();
    }
    const created = (this.env.now?.() ?? new Date()).toISOString();
    const next: ImageConfig = {
      ...state.image,
      created,
      config,
      rootfs: { type: 'layers', diff_ids: layer ? [...state.image.rootfs.diff_ids, parseDigest(layer.diffId)] : state.image.rootfs.diff_ids },
      history: [...(state.image.history ?? []), {
        created, created_by: createdBy,
        ...(state.image.author ? { author: state.image.author } : {}),
        ...(layer ? {} : { empty_layer: true }),
      }],
    };
    const id = await this.env.backends.images.store(next, state.imageId);
    state.image = next;
    state.imageId = id;
    if (this.env.cache && !this.request.noCache) await this.env.cache.record(identity, id, layer?.size ?? 0);
    this.say(` ---> ${shortId(id)}\n`);
  }

  private async reuseCached(state: StageState, identity: StepIdentity, stepNo: number, i: Instruction, createdBy: string): Promise<boolean> {
    const cache = this.env.cache;
    if (!cache || this.request.noCache) return false;
    const entry = cache.lookup(identity);
    const image = entry ? await this.env.backends.images.get(entry.imageId) : undefined;
    if (entry) {
      if (image) cache.touch(entry);
      else await cache.forget(entry);
    }
    const hit = image ?? await this.fromCacheSources(state, createdBy);
    if (hit) {
      if (!image) await cache.record(identity, hit.id, 0);
      state.image = structuredClone(hit.config);
      state.imageId = hit.id;
      this.emit({ type: 'cache', step: stepNo, instruction: i.line.original, hit: true, reason: image ? 'CACHED' : 'CACHED (--cache-from)' });
      this.say(` ---> Using cache\n ---> ${shortId(hit.id)}\n`);
      return true;
    }
    const reason = entry ? 'the cached image was removed' : cache.explainMiss(identity);
    this.emit({ type: 'cache', step: stepNo, instruction: i.line.original, hit: false, reason });
    if (this.request.explainCache) this.say(` ---> Cache miss: ${reason}\n`);
    return false;
  }
}

function internalStageError(index: number): Error {
  return new BerthError('internal', 'BUILD_STAGE_MISSING', `build stage ${index} does not exist`);
}

function scratchConfig(): ImageConfig {
  return { architecture: goArch(process.arch), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** `/bin/sh -c #(nop)  ENV a=b` (two-argument form) or `/bin/sh -c #(nop) WORKDIR /x` (one). */
function nopCommand(config: ContainerConfig, comment: string, singleArg: boolean): string {
  const shell = config.Shell && config.Shell.length > 0 ? config.Shell : ['/bin/sh', '-c'];
  return singleArg ? [...shell, `#(nop) ${comment}`].join(' ') : [...shell, '#(nop) ', comment].join(' ');
}

function canonicalConfig(config: ContainerConfig): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)]));
    }
    return value;
  };
  return JSON.stringify(sorted(config));
}

/** Parse and run a build; events stream the classic builder's output. */
export async function runBuild(request: BuildRequest, env: BuilderEnvironment, onEvent: (event: BuildEvent) => void): Promise<BuildResult> {
  const file = parseStages(request.dockerfile);
  for (const warning of file.warnings) onEvent({ type: 'stream', text: `[WARNING]: ${warning}\n` });
  return new Build(file, request, env, onEvent).run();
}

