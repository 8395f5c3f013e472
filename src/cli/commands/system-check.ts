// `berth system check [--repair]` (a berth extension): what berthd's metadata no longer
// references, listed; with --repair, removed. Exit status 1 while something is left.
import { systemCheck, type CheckFinding } from '../../client/system.js';
import { defineCommand } from '../command.js';
import { renderList, type ListSpec } from '../format/render.js';

const CHECK_SPEC: ListSpec = {
  defaultFormat: 'table {{.Kind}}\t{{.Resource}}\t{{.Result}}\t{{.Detail}}',
  headers: { Kind: 'KIND', Resource: 'RESOURCE', Result: 'RESULT', Detail: 'DETAIL' },
  typeName: '*berth.checkFinding',
};

function result(f: CheckFinding): string {
  if (f.Repaired === true) return 'repaired';
  if (f.Repaired === false) return `repair failed: ${f.Error ?? 'unknown error'}`;
  return f.Repairable ? 'found' : 'kept (look by hand)';
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Find (and with --repair remove) what the daemon\'s metadata no longer references',
  maxArgs: 0,
  options(cmd) {
    cmd.option('--repair', 'Remove what was found (set-aside corrupt records are kept)')
      .option('--format <string>', 'Format output using a custom template (json for the raw findings)');
  },
  async run(ctx, _args, flags) {
    const findings = await systemCheck(ctx.client().transport, flags.bool('repair'));
    const rows = findings.map((f) => ({ ...f, Result: result(f) }));
    if (rows.length === 0 && flags.str('format') === undefined) ctx.out('No problems found.\n');
    else ctx.out(renderList(rows, CHECK_SPEC, flags.str('format')));
    const left = findings.filter((f) => f.Repaired !== true);
    return left.length > 0 ? 1 : 0;
  },
});
