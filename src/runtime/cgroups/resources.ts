// The cgroup managers act on OCI `linux.resources` (runtime spec config-linux.md "Control
// groups"), typed and validated once in oci/runtime-spec.ts.
import type { LinuxResources } from '../../oci/runtime-spec.js';

export type CgroupResources = LinuxResources;
