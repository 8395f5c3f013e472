// `inspect`: find each name as the kinds allowed, print the daemon's JSON as an indented
// array (or a --format template per object), and report the names not found.
import type { CliContext } from './context.js';
import { isDaemonError } from './errors.js';
import { StatusExit } from './errors.js';
import { indentJson, renderOne } from './format/render.js';

export type ObjectKind = 'container' | 'image';

async function find(ctx: CliContext, name: string, kinds: ObjectKind[], size: boolean): Promise<unknown> {
  for (const kind of kinds) {
    try {
      return kind === 'container' ? await ctx.client().inspectContainerRaw(name, size) : await ctx.client().inspectImageRaw(name);
    } catch (err) {
      if (!(isDaemonError(err) && err.kind === 'not_found')) throw err;
    }
  }
  return undefined;
}

export async function inspectObjects(ctx: CliContext, names: string[], kinds: ObjectKind[], format: string | undefined, size: boolean): Promise<number> {
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const value = await find(ctx, name, kinds, size);
    if (value === undefined) missing.push(name);
    else found.push(value);
  }
  if (format === undefined || format === '') ctx.out(`${indentJson(found)}\n`);
  else for (const value of found) ctx.out(renderOne(value, format));
  if (missing.length > 0) {
    const what = kinds.length === 1 ? kinds[0] : 'object';
    throw new StatusExit(1, missing.map((m) => `Error: No such ${what}: ${m}`).join('\n'));
  }
  return 0;
}
