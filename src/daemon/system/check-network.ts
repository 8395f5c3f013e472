// system check, network side: links of this daemon instance (its veth and bridge prefixes)
// that no sandbox or network explains, netns files no sandbox holds, and firewall chains or
// rules in the instance's nft table beyond what the records render.
import { runProgram } from '../../sys/exec.js';
import { probe, type CheckProbe, type Finding } from './check.js';

export interface NetworkCheckSources {
  vethPrefix: string;
  bridgePrefix: string;
  /** nft family and table of this instance */
  family: string;
  table: string;
  listLinks(prefix: string): Promise<string[]>;
  deleteLink(name: string): Promise<void>;
  /** host-side veth names of every sandbox's endpoints */
  expectedVeths(): ReadonlySet<string>;
  /** bridge names of every network */
  expectedBridges(): ReadonlySet<string>;
  netnsFiles(): Promise<string[]>;
  /** netns files sandboxes own */
  expectedNetns(): ReadonlySet<string>;
  destroyNetns(file: string): Promise<void>;
  /** the table body the records render */
  expectedFirewall(): string;
  reapplyFirewall(): Promise<void>;
}

/** chain name -> its rules, from `nft list table` text or our rendered body (hook headers left out). */
export function parseChains(text: string): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const open = /^chain\s+(\S+)\s*\{$/.exec(line);
    if (open?.[1] !== undefined) {
      current = [];
      chains.set(open[1], current);
    } else if (line === '}') {
      current = undefined;
    } else if (current !== undefined && line !== '' && !/^type\s/.test(line) && !/^policy\s/.test(line)) {
      current.push(line.replace(/\s+#\s*handle\s+\d+$/, ''));
    }
  }
  return chains;
}

/**
 * Chains the records do not render, and rules beyond those they do (the live lines that match
 * no expected line, when a chain has more lines than expected).
 */
export function firewallExtras(live: string, expected: string): Array<{ chain: string; rule?: string }> {
  const want = parseChains(expected);
  const extras: Array<{ chain: string; rule?: string }> = [];
  for (const [chain, rules] of parseChains(live)) {
    const expectedRules = want.get(chain);
    if (expectedRules === undefined) {
      extras.push({ chain });
      continue;
    }
    if (rules.length <= expectedRules.length) continue;
    const unmatched = [...expectedRules];
    for (const rule of rules) {
      const at = unmatched.indexOf(rule);
      if (at >= 0) unmatched.splice(at, 1);
      else extras.push({ chain, rule });
    }
  }
  return extras;
}

async function liveTable(family: string, table: string): Promise<string | undefined> {
  const result = await runProgram('nft', ['list', 'table', family, table], { allowFailure: true });
  return result.code === 0 ? result.stdout : undefined;
}

export function networkProbes(src: NetworkCheckSources): CheckProbe[] {
  const links = (kind: 'veth' | 'bridge', prefix: string, expected: () => ReadonlySet<string>, owner: string): CheckProbe =>
    probe(`${kind}s`, async () => (await src.listLinks(prefix)).filter((name) => !expected().has(name)).map((name): Finding => ({
      kind, resource: name, detail: `${kind} of this daemon (prefix ${prefix}) that no ${owner} uses`,
      repair: async () => { if (!expected().has(name)) await src.deleteLink(name); },
    })));
  return [
    links('veth', src.vethPrefix, () => src.expectedVeths(), 'container endpoint'),
    links('bridge', src.bridgePrefix, () => src.expectedBridges(), 'network'),
    probe('netns', async () => (await src.netnsFiles()).filter((f) => !src.expectedNetns().has(f)).map((file): Finding => ({
      kind: 'netns', resource: file, detail: 'network namespace file that no container sandbox holds',
      repair: async () => { if (!src.expectedNetns().has(file)) await src.destroyNetns(file); },
    }))),
    probe('firewall', async () => {
      const live = await liveTable(src.family, src.table);
      if (live === undefined) return [];
      const extras = firewallExtras(live, src.expectedFirewall());
      // one repair puts the whole table back as the records say; the others have nothing left to do
      let reapplied: Promise<void> | undefined;
      const repair = async (): Promise<void> => { reapplied ??= src.reapplyFirewall(); await reapplied; };
      return extras.map((e): Finding => (e.rule === undefined
        ? { kind: 'nft-chain', resource: `${src.family} ${src.table} ${e.chain}`, detail: 'chain the network records do not define', repair }
        : { kind: 'nft-rule', resource: `${src.family} ${src.table} ${e.chain}`, detail: `rule no network or published port explains: ${e.rule}`, repair }));
    }),
  ];
}
