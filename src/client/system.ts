// /build/prune (the build cache part of `system prune`) and berth's own /berth/system/check,
// kept beside api.ts as volumes.ts is.
import { z } from 'zod';
import type { ApiTransport } from './transport.js';

const buildPruneSchema = z.object({ CachesDeleted: z.array(z.string()).nullable().optional(), SpaceReclaimed: z.number().optional() }).passthrough();

export const findingSchema = z.object({
  /** what leaked: blob, layer, snapshot, mount, cgroup, veth, bridge, netns, nft-rule, nft-chain, state-dir, corrupt-record */
  Kind: z.string(),
  /** the path, link name, cgroup or digest */
  Resource: z.string(),
  Detail: z.string(),
  /** --repair removes it (corrupt records are kept for a human) */
  Repairable: z.boolean(),
  Repaired: z.boolean().optional(),
  Error: z.string().optional(),
}).passthrough();
export type CheckFinding = z.infer<typeof findingSchema>;

const checkSchema = z.object({ Findings: z.array(findingSchema) }).passthrough();

function filtersParam(filters: Record<string, string[]>): string | undefined {
  if (Object.keys(filters).length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(Object.entries(filters).map(([k, values]) => [k, Object.fromEntries(values.map((v) => [v, true]))])));
}

function decode<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected answer from the daemon for ${what}: ${parsed.error.message}`);
  return parsed.data;
}

export async function pruneBuildCache(transport: ApiTransport, options: { all: boolean; filters: Record<string, string[]> }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
  const answer = decode(buildPruneSchema, await transport.json({
    method: 'POST', path: '/build/prune', query: { all: options.all || undefined, filters: filtersParam(options.filters) },
  }), 'build cache prune');
  return { CachesDeleted: answer.CachesDeleted ?? [], SpaceReclaimed: answer.SpaceReclaimed ?? 0 };
}

/** What the daemon's metadata no longer references; with repair, removed (and each finding says whether it was). */
export async function systemCheck(transport: ApiTransport, repair: boolean): Promise<CheckFinding[]> {
  const answer = repair
    ? await transport.json({ method: 'POST', path: '/berth/system/check', query: { repair: true } })
    : await transport.json({ path: '/berth/system/check' });
  return decode(checkSchema, answer, 'system check').Findings;
}

const buildCacheSchema = z.object({
  ID: z.string(), Type: z.string().optional(), Description: z.string().optional(), InUse: z.boolean(), Shared: z.boolean().optional(),
  Size: z.number(), CreatedAt: z.string().optional(), LastUsedAt: z.string().nullable().optional(), UsageCount: z.number().optional(),
}).passthrough();
export type BuildCacheItem = z.infer<typeof buildCacheSchema>;

const dfExtrasSchema = z.object({
  BuildCache: z.array(buildCacheSchema).nullable().optional(),
  /** berth: bytes under the data root that no docker category holds (records, set-aside files) */
  BerthOther: z.array(z.object({ Path: z.string(), Size: z.number() })).nullable().optional(),
}).passthrough();

/** The parts of a /system/df answer the verbose listing needs beyond the summary decoder. */
export function decodeDiskUsageExtras(answer: unknown): { buildCache: BuildCacheItem[]; other: Array<{ Path: string; Size: number }> } {
  const extras = decode(dfExtrasSchema, answer, 'system df');
  return { buildCache: extras.BuildCache ?? [], other: extras.BerthOther ?? [] };
}
