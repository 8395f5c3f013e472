// Pulling an image with progress, and creating a container that pulls its image when
// missing (--pull), shared by pull, run and create.
import { BerthError } from '../errors/berth-error.js';
import type { CliContext } from './context.js';
import { isDaemonError } from './errors.js';
import { loadAuth } from './auth-config.js';
import { registryOf, splitReference } from './reference.js';
import { renderProgress } from './streams/progress.js';

/** "busybox" -> "busybox:latest", keeping a given tag or digest */
export function withDefaultTag(ref: string): string {
  const { repo, tag, digest } = splitReference(ref);
  return digest !== undefined ? ref : `${repo}:${tag ?? 'latest'}`;
}

export async function pullImage(ctx: CliContext, ref: string,
  options: { quiet: boolean; toStderr: boolean; platform?: string | undefined; allTags?: boolean }): Promise<void> {
  const { repo, tag, digest } = splitReference(ref);
  const auth = await loadAuth(ctx.env, registryOf(repo));
  // no tag asks the daemon for every tag of the repository
  const res = await ctx.client().pull(repo, options.allTags === true ? undefined : digest ?? tag ?? 'latest', auth, options.platform);
  const out = options.toStderr ? ctx.streams.stderr : ctx.streams.stdout;
  await renderProgress(res, { write: (t) => out.write(t), isTTY: out.isTTY === true, columns: out.columns }, options.quiet);
}

function isMissingImage(err: unknown): boolean {
  return isDaemonError(err) && err.kind === 'not_found' && /no such image/i.test(err.message);
}

export async function createWithPull(ctx: CliContext, body: Record<string, unknown>, options: { name?: string | undefined; pull: string; quiet: boolean; platform?: string | undefined }): Promise<{ Id: string; Warnings?: string[] | undefined }> {
  const image = typeof body.Image === 'string' ? body.Image : '';
  if (!['always', 'missing', 'never'].includes(options.pull)) {
    throw new BerthError('invalid_argument', 'INVALID_PULL', `invalid pull option: '${options.pull}': must be one of "always", "missing" or "never"`);
  }
  if (options.pull === 'always') await pullImage(ctx, image, { quiet: options.quiet, toStderr: true, platform: options.platform });
  try {
    return await ctx.client().createContainer(options.name, body, options.platform);
  } catch (err) {
    if (options.pull !== 'missing' || !isMissingImage(err)) throw err;
    ctx.err(`Unable to find image '${withDefaultTag(image)}' locally\n`);
    await pullImage(ctx, image, { quiet: options.quiet, toStderr: true, platform: options.platform });
    return await ctx.client().createContainer(options.name, body, options.platform);
  }
}
