// Entry point of `berth`: run the command line and exit with its status once output drains.
// (No top-level await: the start-up bundle is CommonJS so V8 can cache its compiled code.)
import { runCli } from './app.js';

runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  (code) => { process.stdout.write('', () => process.exit(code)); },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
