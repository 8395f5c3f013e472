// Runs every benchmark under bench/ in turn; each prints ratios against docker/podman/runc/crun
// measured in the same run. Usage: npm run bench [-- name...]
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const entries = (await readdir(here, { withFileTypes: true })).filter((e) => e.isDirectory());
for (const entry of entries) {
  if (wanted.length > 0 && !wanted.includes(entry.name)) continue;
  const main = path.join(here, entry.name, 'main.js');
  console.log(`== bench/${entry.name}`);
  await import(main);
}
