// What the prune commands print, as docker prints it: a titled list of what went (nothing when
// nothing went), an empty line, then the space reclaimed.
import type { CliContext } from './context.js';
import { humanSize } from './format/units.js';

/** `Title:\n` and one line per item, or '' when there are none. */
export function deletedList(title: string, items: readonly string[]): string {
  return items.length === 0 ? '' : `${title}:\n${items.map((i) => `${i}\n`).join('')}`;
}

/** An image prune's entries as docker lists them. */
export function imagePruneLines(deleted: readonly { Untagged?: string; Deleted?: string }[]): string[] {
  return deleted.map((d) => (d.Untagged !== undefined ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`));
}

/** One prune's report; `reclaimed` undefined for the kinds docker reports no size for (networks). */
export function printPruneReport(ctx: CliContext, title: string, items: readonly string[], reclaimed?: number): void {
  const list = deletedList(title, items);
  if (reclaimed === undefined) {
    ctx.out(list);
    return;
  }
  if (list !== '') ctx.out(`${list}\n`);
  ctx.out(`${totalReclaimed(reclaimed)}\n`);
}

/** docker prints the total with units.HumanSize: four significant digits ("16.43MB"), not the three of `images`. */
export function totalReclaimed(bytes: number): string {
  return `Total reclaimed space: ${humanSize(bytes, 4)}`;
}
