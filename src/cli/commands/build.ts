import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isBerthError } from '../../errors/berth-error.js';
import { Readable } from 'node:stream';
import { contextArchive, isRemoteContext, stdinContext } from '../build-context.js';
import { defineCommand } from '../command.js';
import { StatusExit, UsageError } from '../errors.js';
import { listOption } from '../options.js';
import { renderProgress } from '../streams/progress.js';

function keyValues(list: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(list.map((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, env[kv] ?? ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
}

/** The context to send: a directory as a tar, stdin (`-`), or a URL the daemon fetches (`remote=`). */
async function openContext(arg: string, file: string | undefined, stdin: NodeJS.ReadableStream): Promise<{ body: Readable; dockerfile: string | undefined; remote?: string }> {
  if (arg === '-') return { body: await stdinContext(stdin), dockerfile: file };
  if (isRemoteContext(arg)) return { body: Readable.from([]), dockerfile: file, remote: arg };
  const info = await stat(arg).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new UsageError(`unable to prepare context: path "${arg}" not found`, 1, false);
  const dockerfile = file === undefined ? 'Dockerfile' : path.relative(arg, path.resolve(file));
  if (dockerfile.startsWith('..')) throw new UsageError(`the Dockerfile (${file ?? ''}) must be within the build context`, 1, false);
  return { body: await contextArchive(arg), dockerfile };
}

export default defineCommand({
  usage: '[OPTIONS] PATH | URL | -',
  description: 'Build an image from a Dockerfile',
  aliases: ['berth image build', 'berth build'],
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    listOption(cmd, '--build-arg <list>', 'Set build-time variables');
    listOption(cmd, '--cache-from <list>', 'Images to consider as cache sources');
    cmd.option('-f, --file <string>', "Name of the Dockerfile (Default is 'PATH/Dockerfile')");
    listOption(cmd, '--label <list>', 'Set metadata for an image');
    cmd.option('--network <string>', 'Set the networking mode for the RUN instructions during build')
      .option('--no-cache', 'Do not use cache when building the image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('--pull', 'Always attempt to pull a newer version of the image')
      .option('-q, --quiet', 'Suppress the build output and print image ID on success')
      .option('--force-rm', 'Always remove intermediate containers');
    listOption(cmd, '-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format');
    cmd.option('--target <string>', 'Set the target build stage to build.');
  },
  async run(ctx, [contextPath = ''], flags) {
    const { body, dockerfile, remote } = await openContext(contextPath, flags.str('file'), ctx.streams.stdin);
    const res = await ctx.client().build(body, {
      t: flags.list('tag'), dockerfile, remote, buildargs: JSON.stringify(keyValues(flags.list('build-arg'), ctx.env)),
      labels: JSON.stringify(keyValues(flags.list('label'), {})),
      ...(flags.list('cache-from').length > 0 ? { cachefrom: JSON.stringify(flags.list('cache-from')) } : {}), nocache: !flags.bool('cache') || undefined,
      pull: flags.bool('pull') || undefined, q: flags.bool('quiet') || undefined, target: flags.str('target'),
      networkmode: flags.str('network'), platform: flags.str('platform'), forcerm: flags.bool('force-rm') || undefined, rm: true,
    });
    const out = ctx.streams.stdout;
    try {
      // with q=1 the daemon itself suppresses the steps and streams the image ID
      let printed = false;
      const aux = await renderProgress(res, { write: (t) => { printed = true; out.write(t); }, isTTY: false });
      if (flags.bool('quiet') && !printed) {
        const id = aux.map((a) => (typeof a === 'object' && a !== null && 'ID' in a && typeof a.ID === 'string' ? a.ID : undefined)).find(Boolean);
        if (id !== undefined) ctx.out(`${id}\n`);
      }
    } catch (err) {
      const code = isBerthError(err) && typeof err.detail?.code === 'number' && err.detail.code > 0 ? err.detail.code : 1;
      throw new StatusExit(code, err instanceof Error ? err.message : String(err));
    }
  },
});
