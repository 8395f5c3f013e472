// Entry point of `berth`: run the command line and exit with its status once output drains.
// (No top-level await: the start-up bundle is CommonJS so V8 can cache its compiled code.)
import { runCli } from './app.js';

// stdin on first use: opening it costs a few ms (a file's stream pulls in fs/promises) and most commands never read it
const streams = { stdout: process.stdout, stderr: process.stderr, get stdin(): NodeJS.ReadStream { return process.stdin; } };

runCli(process.argv.slice(2), process.env, streams).then(
  (code) => { process.stdout.write('', () => process.exit(code)); },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
