// The local volume driver: <dataRoot>/volumes/<name>/_data holds the data and
// <dataRoot>/volumes/<name>/volume.json its metadata. Volumes with --opt type=...
// (tmpfs, none+o=bind, nfs...) get their filesystem mounted on _data on first use,
// as docker's local driver does.
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BerthError, conflict, errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { setAside } from '../../util/set-aside.js';

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_OPTION_KEYS = ['type', 'o', 'device', 'size'];

const metaSchema = z.object({
  Name: z.string(),
  Driver: z.string(),
  CreatedAt: z.string(),
  Labels: z.record(z.string(), z.string()),
  Options: z.record(z.string(), z.string()),
  /** the container an anonymous volume was made for (rm -v removes it with that container) */
  AnonymousFor: z.string().optional(),
});
export type VolumeMeta = z.infer<typeof metaSchema>;

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export function validVolumeName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeMeta>();

  constructor(readonly root: string) {}

  dir(name: string): string {
    return path.join(this.root, name);
  }

  mountpoint(name: string): string {
    return path.join(this.root, name, '_data');
  }

  /** Load every volume.json; a corrupt one is reported, set aside and skipped, the rest still load. */
  async load(): Promise<string[]> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    const warnings: string[] = [];
    for (const name of await readdir(this.root)) {
      try {
        const raw: unknown = JSON.parse(await readFile(path.join(this.root, name, 'volume.json'), 'utf8'));
        this.volumes.set(name, metaSchema.parse(raw));
      } catch (err) {
        const reason = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
          : err instanceof Error ? err.message : String(err);
        // corrupt (not missing) metadata is moved aside so the data stays and check lists it
        const moved = errnoCode(err) === undefined ? await setAside(path.join(this.root, name, 'volume.json')).catch(() => undefined) : undefined;
        warnings.push(`volume ${name}: unreadable metadata: ${reason}${moved ? `; set aside as ${moved}` : ''}`);
      }
    }
    return warnings;
  }

  get(name: string): VolumeMeta {
    const meta = this.volumes.get(name);
    if (!meta) throw notFound('NO_SUCH_VOLUME', `get ${name}: no such volume`);
    return meta;
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  all(): VolumeMeta[] {
    return [...this.volumes.values()];
  }

  async create(name: string, request: VolumeCreateRequest, anonymousFor?: string): Promise<VolumeMeta> {
    if (!validVolumeName(name)) {
      throw invalidArgument('BAD_VOLUME_NAME', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    }
    const driver = request.Driver || 'local';
    if (driver !== 'local') throw notFound('NO_SUCH_DRIVER', `create ${name}: volume driver ${driver} not found: only the local driver exists`);
    const options = request.DriverOpts ?? {};
    for (const key of Object.keys(options)) {
      if (!LOCAL_OPTION_KEYS.includes(key)) throw invalidArgument('BAD_VOLUME_OPT', `create ${name}: invalid option key: "${key}"`);
    }
    if (options.device && !options.type) throw invalidArgument('BAD_VOLUME_OPT', `create ${name}: missing "type" option for device ${options.device}`);
    const existing = this.volumes.get(name);
    if (existing) {
      if (JSON.stringify(existing.Options) !== JSON.stringify(options) && Object.keys(options).length > 0) {
        throw conflict('VOLUME_EXISTS', `create ${name}: a volume with this name already exists with different options`);
      }
      return existing;
    }
    const meta: VolumeMeta = {
      Name: name, Driver: 'local', CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: request.Labels ?? {}, Options: options, ...(anonymousFor ? { AnonymousFor: anonymousFor } : {}),
    };
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    await writeJsonAtomic(path.join(this.dir(name), 'volume.json'), meta, 0o600);
    this.volumes.set(name, meta);
    return meta;
  }

  /** Mount the volume's own filesystem (type=...) on _data if it is not mounted yet. */
  async ensureMounted(name: string): Promise<string> {
    const meta = this.get(name);
    const target = this.mountpoint(name);
    await mkdir(target, { recursive: true, mode: 0o755 });
    const type = meta.Options.type;
    if (!type || await isMountpoint(target)) return target;
    const flags = [meta.Options.o, meta.Options.size ? `size=${meta.Options.size}` : undefined].filter(Boolean).join(',');
    if (flags.split(',').includes('bind') && meta.Options.device) {
      await stat(meta.Options.device).catch((cause: unknown) => {
        throw invalidArgument('BAD_VOLUME_DEVICE', `volume ${name}: bind device ${meta.Options.device ?? ''} does not exist`, { cause });
      });
    }
    const args = ['-t', type, ...(flags ? ['-o', flags] : []), meta.Options.device || type, target];
    const result = await runProgram('mount', args, { allowFailure: true });
    if (result.code !== 0) {
      throw new BerthError('internal', 'VOLUME_MOUNT', `volume ${name}: mount ${args.join(' ')} failed: ${result.stderr.trim()}`);
    }
    return target;
  }

  async unmount(name: string): Promise<void> {
    const target = this.mountpoint(name);
    while (await isMountpoint(target)) {
      const result = await runProgram('umount', [target], { allowFailure: true });
      if (result.code !== 0) {
        await runProgram('umount', ['-l', target], { allowFailure: true });
        break;
      }
    }
  }

  async remove(name: string): Promise<void> {
    await this.unmount(name);
    await rm(this.dir(name), { recursive: true, force: true });
    this.volumes.delete(name);
  }
}

/** True when `dir` is a mount point (listed as such in /proc/self/mountinfo). */
export async function isMountpoint(dir: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = dir.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return info.split('\n').some((line) => line.split(' ')[4] === escaped);
}
