// `berth system check [--repair]`: finds what the metadata no longer references (blobs,
// layers, snapshots, mounts, cgroups, runtime state, veths, bridges, netns files, firewall
// rules) and, with repair, removes it. Each probe looks at one kind of resource and returns
// findings that carry their own repair; the checker runs them and reports.

export type FindingKind =
  | 'blob' | 'layer' | 'snapshot' | 'mount' | 'cgroup' | 'runtime-state' | 'state-dir'
  | 'veth' | 'bridge' | 'netns' | 'nft-chain' | 'nft-rule' | 'corrupt-record';

export interface Finding {
  kind: FindingKind;
  /** the path, link name, cgroup directory or digest */
  resource: string;
  detail: string;
  /** removes it; absent when a human should look first (corrupt records) */
  repair?: () => Promise<void>;
}

export interface CheckProbe {
  readonly name: string;
  find(): Promise<Finding[]>;
}

/** One line of the report, as the API sends it. */
export interface CheckReportItem {
  Kind: FindingKind;
  Resource: string;
  Detail: string;
  Repairable: boolean;
  Repaired?: boolean;
  Error?: string;
}

/**
 * Probes run in order and repairs in that order too: mounts come off before the snapshot
 * directories under them are removed, processes are killed before their cgroups go.
 */
export class SystemChecker {
  constructor(private readonly probes: readonly CheckProbe[]) {}

  async check(repair: boolean): Promise<CheckReportItem[]> {
    const report: CheckReportItem[] = [];
    for (const probe of this.probes) {
      let findings: Finding[];
      try {
        findings = await probe.find();
      } catch (err) {
        report.push({ Kind: 'state-dir', Resource: probe.name, Detail: `probe failed: ${String(err)}`, Repairable: false });
        continue;
      }
      for (const finding of findings) report.push(await this.settle(finding, repair));
    }
    return report;
  }

  private async settle(finding: Finding, repair: boolean): Promise<CheckReportItem> {
    const item: CheckReportItem = { Kind: finding.kind, Resource: finding.resource, Detail: finding.detail, Repairable: finding.repair !== undefined };
    if (!repair || !finding.repair) return item;
    try {
      await finding.repair();
      item.Repaired = true;
    } catch (err) {
      item.Repaired = false;
      item.Error = err instanceof Error ? err.message : String(err);
    }
    return item;
  }
}

/** A probe from a name and a function (most probes are one function over their sources). */
export function probe(name: string, find: () => Promise<Finding[]>): CheckProbe {
  return { name, find };
}
