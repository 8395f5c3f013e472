// A real build stack for integration tests: image store (overlay snapshots) in a private
// dir, the built-in runtime, a BuildService, a busybox base image, and a loopback HTTP
// server for ADD <url>. Everything is named with a per-test token and removed by close().
import { mkdtemp, rm, mkdir, writeFile, readFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage } from '../../src/daemon/images/import-export.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { createRuntime } from '../../src/runtime/factory.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { BuildService, type BuildApiRequest } from '../../src/daemon/build/build-service.js';
import type { BuildEvent } from '../../src/build/backends.js';

export const ECHO_SERVER = '#!/bin/sh\n# the seed\'s echo server, for busybox: answer each line on port 50000\nexec nc -lk -p 50000 -e cat\n';

export class BuildStack {
  readonly token = randomBytes(4).toString('hex');
  service!: BuildService;
  images!: ImageService;
  runtime!: Runtime;
  baseId = '';
  url = '';
  requests: string[] = [];
  private server!: Server;

  private constructor(readonly dir: string) {}

  static async start(runtimeName = 'berth'): Promise<BuildStack> {
    const stack = new BuildStack(await mkdtemp(path.join(tmpdir(), 'berth-build-it-')));
    stack.images = new ImageService({ root: path.join(stack.dir, 'image') });
    stack.runtime = createRuntime(runtimeName, { root: path.join(stack.dir, 'runtime') });
    stack.baseId = await createBusyboxImage(stack.images, { reference: `berth-build-${stack.token}/busybox:latest` });
    await stack.reopen();
    stack.server = createServer((req, res) => {
      stack.requests.push(req.url ?? '');
      if (req.url === '/echoserver-simple.py') {
        res.writeHead(200, { 'content-length': String(Buffer.byteLength(ECHO_SERVER)), 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
        res.end(ECHO_SERVER);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => stack.server.listen(0, '127.0.0.1', resolve));
    const address = stack.server.address();
    stack.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return stack;
  }

  get base(): string { return `berth-build-${this.token}/busybox`; }

  /** A new BuildService over the same directories: what a daemon restart does. */
  async reopen(): Promise<void> {
    this.service = await BuildService.open({
      images: this.images, runtime: this.runtime, dataRoot: path.join(this.dir, 'build'), runRoot: path.join(this.dir, 'run'),
      cgroupParent: `/berth-build-test-${this.token}`,
    });
  }

  async contextTar(files: Record<string, string>): Promise<Buffer> {
    const ctx = await mkdtemp(path.join(this.dir, 'ctx-'));
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
      await writeFile(path.join(ctx, name), content);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of tar.c({ cwd: ctx, portable: true }, ['.'])) chunks.push(chunk as Buffer);
    await rm(ctx, { recursive: true, force: true });
    return Buffer.concat(chunks);
  }

  async build(files: Record<string, string>, request: Partial<BuildApiRequest> = {}): Promise<{ id: string; output: string; events: BuildEvent[] }> {
    const events: BuildEvent[] = [];
    const result = await this.service.build({ context: await this.contextTar(files), ...request }, (e) => events.push(e));
    return { id: result.imageId, output: events.map((e) => (e.type === 'stream' ? e.text : '')).join(''), events };
  }

  /** Read a file of an image through a temporary snapshot. */
  async readFromImage(imageId: string, file: string): Promise<string> {
    const key = `berth-build-read-${this.token}`;
    const root = await this.images.rootfs().mount(key, imageId);
    try {
      return await readFile(path.join(root, file), 'utf8');
    } finally {
      await this.images.rootfs().remove(key);
    }
  }

  /** Kernel resources and state this stack could have leaked. */
  async leaks(): Promise<string[]> {
    const leaks: string[] = [];
    leaks.push(...(await this.images.rootfs().list()).map((k) => `snapshot ${k}`));
    leaks.push(...(await this.runtime.list()).map((s) => `container ${s.id}`));
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    leaks.push(...mountinfo.split('\n').filter((l) => l.includes('berth-build-') && l.includes(this.dir)).map((l) => `mount ${l}`));
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      try {
        const dirs = execFileSync('find', [`/sys/fs/cgroup/${ctrl}/berth-build-test-${this.token}`, '-mindepth', '1', '-type', 'd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        leaks.push(...dirs.split('\n').filter(Boolean).map((d) => `cgroup ${d}`));
      } catch {
        // no such parent: nothing leaked there
      }
    }
    return leaks;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    for (const m of await mountPointsUnder(this.dir)) execFileSync('umount', ['-l', m]);
    // every hierarchy, not just the limited ones: the runtime also makes the parent under name=systemd
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      try { execFileSync('rmdir', [`/sys/fs/cgroup/${ctrl}/berth-build-test-${this.token}`], { stdio: 'ignore' }); } catch { /* absent */ }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
