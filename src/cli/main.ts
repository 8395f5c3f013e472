// Entry point of `berth`: run the command line and exit with its status once output drains.
import { runCli } from './app.js';

const code = await runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.stdout.write('', () => process.exit(code));
