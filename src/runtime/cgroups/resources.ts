// The subset of OCI `linux.resources` the cgroup managers act on (runtime spec
// config-linux.md "Control groups"). Structurally the same as the spec's LinuxResources.
export interface CgroupDeviceRule {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export interface CgroupMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CgroupCpu {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface CgroupWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface CgroupThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface CgroupBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: CgroupWeightDevice[];
  throttleReadBpsDevice?: CgroupThrottleDevice[];
  throttleWriteBpsDevice?: CgroupThrottleDevice[];
  throttleReadIOPSDevice?: CgroupThrottleDevice[];
  throttleWriteIOPSDevice?: CgroupThrottleDevice[];
}

export interface CgroupResources {
  devices?: CgroupDeviceRule[];
  memory?: CgroupMemory;
  cpu?: CgroupCpu;
  pids?: { limit?: number };
  blockIO?: CgroupBlockIO;
  hugepageLimits?: Array<{ pageSize: string; limit: number }>;
  network?: { classID?: number; priorities?: Array<{ name: string; priority: number }> };
  /** v2 only: raw "file": "value" settings */
  unified?: Record<string, string>;
}
