// A pull in a process of its own, for the kill -9 test: argv is <reference> <content root>.
// It prints "downloading" once the first layer bytes arrive, then keeps pulling.
import { pullImage } from '../../../src/daemon/images/pull.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { FileContentStore } from '../../../src/store/content/file-content-store.js';
import { NameTable } from './image-fixtures.js';

const [reference, root] = process.argv.slice(2);
if (reference === undefined || root === undefined) throw new Error('usage: pull-child <reference> <content root>');
let told = false;
await pullImage(new RegistryClient(), new NameTable().pullStore(new FileContentStore(root)), reference, {
  onProgress: (event) => {
    if (!told && event.status === 'Downloading') {
      told = true;
      process.stdout.write('downloading\n');
    }
  },
});
process.stdout.write('done\n');
