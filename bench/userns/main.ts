// bench/userns: the cost of user namespaces. Sections: rootless berthd against rootful
// (rootless.ts); the --userns=auto section goes beside it.
import { benchRootless } from './rootless.js';

await benchRootless();
