// Verbs that act on several containers (stop a b c): each target in turn, its name on
// stdout when it worked, docker's error line on stderr when not, exit 1 if any failed.
import type { CliContext } from './context.js';
import { describeError } from './errors.js';

export async function eachTarget(ctx: CliContext, targets: string[], action: (target: string) => Promise<string | void>): Promise<number> {
  let failed = false;
  for (const target of targets) {
    try {
      const printed = await action(target);
      ctx.out(`${printed ?? target}\n`);
    } catch (err) {
      failed = true;
      ctx.err(`${describeError(err)}\n`);
    }
  }
  return failed ? 1 : 0;
}
