// The shapes of the daemon's answers that the CLI reads, checked where they enter.
import { arr, bool, num, obj, opt, record, str, unknownValue, type Decoded } from './decode.js';

export const decodePort = obj({ IP: opt(str), PrivatePort: num, PublicPort: opt(num), Type: str });

export const decodeContainerSummary = obj({
  Id: str, Names: opt(arr(str)), Image: str, ImageID: opt(str), Command: opt(str), Created: num,
  State: opt(str), Status: opt(str), Ports: opt(arr(decodePort)), Labels: opt(record(str)),
  SizeRw: opt(num), SizeRootFs: opt(num), Mounts: opt(arr(unknownValue)),
  NetworkSettings: opt(obj({ Networks: opt(record(unknownValue)) })),
});
export type ContainerSummary = Decoded<typeof decodeContainerSummary>;

export const decodeImageSummary = obj({
  Id: str, ParentId: opt(str), RepoTags: opt(arr(str)), RepoDigests: opt(arr(str)), Created: num,
  Size: num, SharedSize: opt(num), VirtualSize: opt(num), Labels: opt(record(str)), Containers: opt(num),
});
export type ImageSummary = Decoded<typeof decodeImageSummary>;

export const decodeHistoryItem = obj({ Id: str, Created: num, CreatedBy: str, Tags: opt(arr(str)), Size: num, Comment: opt(str) });
export type HistoryItem = Decoded<typeof decodeHistoryItem>;

export const decodeContainerState = obj({
  Status: str, Running: bool, Paused: opt(bool), Restarting: opt(bool), ExitCode: opt(num),
  StartedAt: opt(str), FinishedAt: opt(str), Error: opt(str), Pid: opt(num),
});

export const decodeContainerInspect = obj({
  Id: str, Name: str, Created: opt(str), Image: opt(str),
  State: decodeContainerState,
  Config: obj({ Tty: opt(bool), OpenStdin: opt(bool), AttachStdin: opt(bool), Image: opt(str), StopSignal: opt(str) }),
  HostConfig: opt(obj({ AutoRemove: opt(bool) })),
  NetworkSettings: opt(obj({ Ports: opt(record(unknownValue)) })),
});
export type ContainerInspect = Decoded<typeof decodeContainerInspect>;

export const decodeCreated = obj({ Id: str, Warnings: opt(arr(str)) });
export const decodeWait = obj({ StatusCode: num, Error: opt(obj({ Message: opt(str) })) });
export const decodeExecInspect = obj({ ExitCode: opt(num), Running: bool, Pid: opt(num) });

export const decodeVersion = obj({
  Version: str, ApiVersion: str, MinAPIVersion: opt(str), GitCommit: opt(str), GoVersion: opt(str),
  Os: str, Arch: str, KernelVersion: opt(str), BuildTime: opt(str), Experimental: opt(bool),
  Platform: opt(obj({ Name: opt(str) })),
  Components: opt(arr(obj({ Name: str, Version: str, Details: opt(record(unknownValue)) }))),
});
export type ServerVersion = Decoded<typeof decodeVersion>;

export const decodeTopResult = obj({ Titles: arr(str), Processes: opt(arr(arr(str))) });
export const decodeChange = obj({ Path: str, Kind: num });
export const decodePruneContainers = obj({ ContainersDeleted: opt(arr(str)), SpaceReclaimed: opt(num) });
export const decodePruneImages = obj({ ImagesDeleted: opt(arr(obj({ Untagged: opt(str), Deleted: opt(str) }))), SpaceReclaimed: opt(num) });
export const decodeDeleteItems = arr(obj({ Untagged: opt(str), Deleted: opt(str) }));
export const decodeAuth = obj({ Status: opt(str), IdentityToken: opt(str) });
export const decodeEvent = obj({
  Type: opt(str), Action: opt(str), status: opt(str), id: opt(str), from: opt(str), time: opt(num), timeNano: opt(num),
  Actor: opt(obj({ ID: opt(str), Attributes: opt(record(str)) })), scope: opt(str),
});
export type DaemonEvent = Decoded<typeof decodeEvent>;

/** One line of pull/push/load/import progress. */
export const decodeProgress = obj({
  id: opt(str), status: opt(str), progress: opt(str), stream: opt(str),
  progressDetail: opt(obj({ current: opt(num), total: opt(num) })),
  error: opt(str), errorDetail: opt(obj({ message: opt(str), code: opt(num) })), aux: opt(unknownValue),
});
export type ProgressMessage = Decoded<typeof decodeProgress>;

export const decodeStats = obj({
  read: opt(str), name: opt(str), id: opt(str),
  cpu_stats: opt(obj({ cpu_usage: opt(obj({ total_usage: opt(num), percpu_usage: opt(arr(num)) })), system_cpu_usage: opt(num), online_cpus: opt(num) })),
  precpu_stats: opt(obj({ cpu_usage: opt(obj({ total_usage: opt(num) })), system_cpu_usage: opt(num) })),
  memory_stats: opt(obj({ usage: opt(num), limit: opt(num), stats: opt(record(unknownValue)) })),
  networks: opt(record(obj({ rx_bytes: opt(num), tx_bytes: opt(num) }))),
  blkio_stats: opt(obj({ io_service_bytes_recursive: opt(arr(obj({ op: str, value: num }))) })),
  pids_stats: opt(obj({ current: opt(num) })),
});
export type StatsSample = Decoded<typeof decodeStats>;

export const decodeDiskUsage = obj({
  LayersSize: opt(num),
  Images: opt(arr(decodeImageSummary)),
  Containers: opt(arr(decodeContainerSummary)),
  Volumes: opt(arr(obj({ Name: str, UsageData: opt(obj({ Size: num, RefCount: num })) }))),
  BuildCache: opt(arr(obj({ Size: num, InUse: bool, Shared: opt(bool) }))),
});

export const decodeNetwork = obj({
  Id: str, Name: str, Driver: opt(str), Scope: opt(str), Created: opt(str), EnableIPv6: opt(bool), Internal: opt(bool),
  Labels: opt(record(str)), IPAM: opt(unknownValue),
});
export type NetworkSummary = Decoded<typeof decodeNetwork>;
export const decodePruneNetworks = obj({ NetworksDeleted: opt(arr(str)) });
export const decodePruneBuildCache = obj({ CachesDeleted: opt(arr(str)), SpaceReclaimed: opt(num) });
