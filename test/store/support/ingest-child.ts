// Child process for the crash test: starts an ingest, writes half the blob, reports, and
// keeps writing slowly until it is killed with SIGKILL.
import { FileContentStore } from '../../../src/store/content/file-content-store.js';
import { parseDigest } from '../../../src/oci/digest.js';

const [root, digest, size] = process.argv.slice(2) as [string, string, string];
const store = new FileContentStore(root);
const writer = await store.writer('crash-ref', { digest: parseDigest(digest), size: Number(size) });
const half = Buffer.alloc(Number(size) / 2, 0x61);
await writer.write(half);
process.stdout.write('half\n');
setInterval(() => undefined, 1000);
