// bench/images: unpacking against GNU tar (unpack.ts) and pull/push against skopeo
// (pull.ts), each printing its ratios; run by bench/run.ts.
import { runUnpackBench } from './unpack.js';
import { runPullBench } from './pull.js';

await runUnpackBench();
await runPullBench();
