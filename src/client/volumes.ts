// The Docker Engine API's /volumes endpoints for `berth volume ...` (kept beside api.ts).
import { z } from 'zod';
import type { ApiTransport } from './transport.js';

export const volumeSchema = z.object({
  Name: z.string(),
  Driver: z.string(),
  Mountpoint: z.string(),
  CreatedAt: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
  Scope: z.string().optional(),
  Options: z.record(z.string(), z.string()).nullable().optional(),
}).passthrough();
export type Volume = z.infer<typeof volumeSchema>;

const listSchema = z.object({ Volumes: z.array(volumeSchema).nullable(), Warnings: z.array(z.string()).nullable().optional() });
const pruneSchema = z.object({ VolumesDeleted: z.array(z.string()).nullable(), SpaceReclaimed: z.number() });

function filtersParam(filters: Record<string, string[]>): string | undefined {
  if (Object.keys(filters).length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(Object.entries(filters).map(([k, values]) => [k, Object.fromEntries(values.map((v) => [v, true]))])));
}

function decode<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected answer from the daemon for ${what}: ${parsed.error.message}`);
  return parsed.data;
}

export async function createVolume(transport: ApiTransport, request: { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }): Promise<Volume> {
  return decode(volumeSchema, await transport.json({ method: 'POST', path: '/volumes/create', json: request }), 'volume create');
}

export async function listVolumes(transport: ApiTransport, filters: Record<string, string[]>): Promise<Volume[]> {
  return decode(listSchema, await transport.json({ path: '/volumes', query: { filters: filtersParam(filters) } }), 'volume ls').Volumes ?? [];
}

export async function inspectVolumeRaw(transport: ApiTransport, name: string): Promise<unknown> {
  return await transport.json({ path: `/volumes/${encodeURIComponent(name)}` });
}

export async function removeVolume(transport: ApiTransport, name: string, force: boolean): Promise<void> {
  await transport.call({ method: 'DELETE', path: `/volumes/${encodeURIComponent(name)}`, query: { force: force ? '1' : undefined } });
}

export async function pruneVolumes(transport: ApiTransport, filters: Record<string, string[]>): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
  const result = decode(pruneSchema, await transport.json({ method: 'POST', path: '/volumes/prune', query: { filters: filtersParam(filters) } }), 'volume prune');
  return { VolumesDeleted: result.VolumesDeleted ?? [], SpaceReclaimed: result.SpaceReclaimed };
}
