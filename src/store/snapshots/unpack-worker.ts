// Entry of an unpack worker thread: takes {id, task} messages, unpacks each layer blob
// synchronously (unpack-blob.ts) and answers {id, outcome} or {id, error}. Bundled on its own
// beside berthd's bundle (src/util/bundle.ts); unpack-pool.ts finds it.
import { parentPort } from 'node:worker_threads';
import { errorToData, parseUnpackTask, unpackBlobSync } from './unpack-blob.js';

const port = parentPort;
if (port === null) throw new Error('unpack-worker runs as a worker thread only');
port.on('message', (message: unknown) => {
  const id = typeof message === 'object' && message !== null ? Reflect.get(message, 'id') : undefined;
  try {
    const outcome = unpackBlobSync(parseUnpackTask(Reflect.get(message as object, 'task')));
    port.postMessage({ id, outcome });
  } catch (err) {
    port.postMessage({ id, error: errorToData(err) });
  }
});
