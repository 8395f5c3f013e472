// berth-runtime: the runc-compatible command line of the built-in OCI runtime, as a plain
// command, or (with SERVE_FLAG, as the thin client native/src/client.c starts it) as the
// resident server that runs the commands of its clients.
import { createBuiltinRuntime } from '../runtime/factory.js';
import { plainCallerIo } from './plain-io.js';
import { runCommandLine } from './program.js';
import { SERVE_FLAG } from './protocol.js';
import { serveRuntime } from './server.js';

// no top-level await: the start-up bundle is CommonJS so V8 can cache its compiled code
const args = process.argv.slice(2);
if (args[0] === SERVE_FLAG && args[1] !== undefined) {
  serveRuntime(args[1]).then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`berth-runtime server: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  void runCommandLine(args, plainCallerIo(), (root) => createBuiltinRuntime({ root })).then((code) => { process.exitCode = code; });
}
