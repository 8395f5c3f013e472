// The flags of `run` and `create` and the Engine API body they turn into. Everything is
// checked here, before anything is sent to the daemon, with docker's wording.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Flags } from './context.js';
import { UsageError } from './errors.js';
import { durationOption, floatOption, intOption, listOption, sizeOption } from './options.js';
import { parseRamSize } from './format/units.js';

export function addContainerOptions(cmd: Command): void {
  listOption(cmd, '-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR');
  listOption(cmd, '--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)');
  listOption(cmd, '--cap-add <list>', 'Add Linux capabilities');
  listOption(cmd, '--cap-drop <list>', 'Drop Linux capabilities');
  cmd.option('--cgroupns <string>', 'Cgroup namespace to use (host|private)');
  cmd.option('--cidfile <string>', 'Write the container ID to the file');
  intOption(cmd, '-c, --cpu-shares <int>', 'CPU shares (relative weight)');
  floatOption(cmd, '--cpus <decimal>', 'Number of CPUs');
  cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
  listOption(cmd, '--device <list>', 'Add a host device to the container');
  listOption(cmd, '--dns <list>', 'Set custom DNS servers');
  listOption(cmd, '--dns-option <list>', 'Set DNS options');
  listOption(cmd, '--dns-search <list>', 'Set custom DNS search domains');
  cmd.option('--domainname <string>', 'Container NIS domain name');
  cmd.option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image');
  listOption(cmd, '-e, --env <list>', 'Set environment variables');
  listOption(cmd, '--env-file <list>', 'Read in a file of environment variables');
  listOption(cmd, '--expose <list>', 'Expose a port or a range of ports');
  listOption(cmd, '--group-add <list>', 'Add additional groups to join');
  cmd.option('--health-cmd <string>', 'Command to run to check health');
  durationOption(cmd, '--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)');
  cmd.option('--health-on-failure <string>', 'Action when the container turns unhealthy (none|restart|stop|kill; berth only)');
  intOption(cmd, '--health-retries <int>', 'Consecutive failures needed to report unhealthy');
  durationOption(cmd, '--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)');
  durationOption(cmd, '--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)');
  durationOption(cmd, '--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)');
  cmd.option('-h, --hostname <string>', 'Container host name');
  cmd.option('--init', 'Run an init inside the container that forwards signals and reaps processes');
  cmd.option('-i, --interactive', 'Keep STDIN open even if not attached');
  cmd.option('--ipc <string>', 'IPC mode to use');
  listOption(cmd, '-l, --label <list>', 'Set meta data on a container');
  cmd.option('--log-driver <string>', 'Logging driver for the container');
  listOption(cmd, '--log-opt <list>', 'Log driver options');
  sizeOption(cmd, '-m, --memory <bytes>', 'Memory limit');
  sizeOption(cmd, '--memory-reservation <bytes>', 'Memory soft limit');
  cmd.addOption(new Option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"));
  listOption(cmd, '--mount <mount>', 'Attach a filesystem mount to the container');
  cmd.option('--name <string>', 'Assign a name to the container');
  cmd.option('--network, --net <network>', 'Connect a container to a network');
  cmd.option('--oom-kill-disable', 'Disable OOM Killer');
  cmd.option('--pid <string>', 'PID namespace to use');
  intOption(cmd, '--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
  cmd.option('--platform <string>', 'Set platform if server is multi-platform capable');
  cmd.option('--privileged', 'Give extended privileges to this container');
  cmd.option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  listOption(cmd, '-p, --publish <list>', "Publish a container's port(s) to the host");
  cmd.option('-P, --publish-all', 'Publish all exposed ports to random ports');
  cmd.addOption(new Option('--pull <string>', 'Pull image before running ("always", "missing", "never")').default('missing'));
  cmd.option('-q, --quiet', 'Suppress the pull output');
  cmd.option('--read-only', "Mount the container's root filesystem as read only");
  cmd.addOption(new Option('--restart <string>', 'Restart policy to apply when a container exits').default('no'));
  cmd.option('--rm', 'Automatically remove the container when it exits');
  cmd.option('--runtime <string>', 'Runtime to use for this container');
  listOption(cmd, '--security-opt <list>', 'Security Options');
  sizeOption(cmd, '--shm-size <bytes>', 'Size of /dev/shm');
  cmd.option('--stop-signal <string>', 'Signal to stop the container');
  intOption(cmd, '--stop-timeout <int>', 'Timeout (in seconds) to stop a container');
  listOption(cmd, '--sysctl <map>', 'Sysctl options');
  listOption(cmd, '--tmpfs <list>', 'Mount a tmpfs directory');
  cmd.option('-t, --tty', 'Allocate a pseudo-TTY');
  listOption(cmd, '--ulimit <ulimit>', 'Ulimit options');
  cmd.option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])');
  cmd.option('--userns <string>', 'User namespace to use');
  cmd.option('--uts <string>', 'UTS namespace to use');
  listOption(cmd, '-v, --volume <list>', 'Bind mount a volume');
  listOption(cmd, '--volumes-from <list>', 'Mount volumes from the specified container(s)');
  cmd.option('-w, --workdir <string>', 'Working directory inside the container');
}

const bad = (message: string): UsageError => new UsageError(message, 125, false);

export function parseEnvFile(file: string, env: NodeJS.ProcessEnv): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw bad(`open ${file}: ${err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file or directory' : String(err)}`);
  }
  return text.split('\n').map((line) => line.replace(/^\s+/, '')).filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => expandEnv(line, env));
}

function expandEnv(entry: string, env: NodeJS.ProcessEnv): string[] {
  if (entry.includes('=')) {
    if (entry.startsWith('=')) throw bad(`invalid environment variable: ${entry}`);
    return [entry];
  }
  const value = env[entry];
  return value === undefined ? [] : [`${entry}=${value}`];
}

type PortBinding = { HostIp: string; HostPort: string };

function expandRange(text: string, what: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) throw bad(`invalid ${what}: ${text}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || end < start) throw bad(`invalid ${what}: ${text}`);
  return Array.from({ length: end - start + 1 }, (_v, i) => start + i);
}

/** "[ip:][hostPort:]containerPort[/proto]" -> exposed ports and bindings */
export function parsePublish(specs: string[], exposed: Record<string, object>, bindings: Record<string, PortBinding[]>): void {
  for (const spec of specs) {
    const [body = '', proto = 'tcp'] = spec.split('/');
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw bad(`invalid proto: ${proto}`);
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(body);
    const parts = ipv6 !== null ? [ipv6[1] ?? '', ...(ipv6[2] ?? '').split(':')] : body.split(':');
    if (parts.length > 3) throw bad(`invalid port format: ${spec}`);
    const containerPart = parts[parts.length - 1] ?? '';
    const hostPart = parts.length >= 2 ? parts[parts.length - 2] ?? '' : '';
    const hostIp = parts.length === 3 ? parts[0] ?? '' : '';
    const containerPorts = expandRange(containerPart, 'containerPort');
    const hostPorts = hostPart === '' ? [] : expandRange(hostPart, 'hostPort');
    if (hostPorts.length > 1 && hostPorts.length !== containerPorts.length) throw bad(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    containerPorts.forEach((port, i) => {
      const key = `${port}/${proto}`;
      exposed[key] = {};
      const hostPort = hostPorts.length === 0 ? '' : String(hostPorts.length === 1 ? hostPorts[0] : hostPorts[i]);
      (bindings[key] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
    });
  }
}

export function parseMount(spec: string): Record<string, unknown> {
  const mount: Record<string, unknown> = { Type: 'volume' };
  for (const field of spec.split(',')) {
    const [key = '', value] = field.split('=', 2);
    const k = key.trim().toLowerCase();
    if (k === 'type') mount.Type = value;
    else if (k === 'source' || k === 'src') mount.Source = value;
    else if (k === 'target' || k === 'destination' || k === 'dst') mount.Target = value;
    else if (k === 'readonly' || k === 'ro') mount.ReadOnly = value === undefined || value === 'true' || value === '1';
    else if (k === 'tmpfs-size') mount.TmpfsOptions = { SizeBytes: parseRamSize(value ?? '') };
    else if (k === 'bind-propagation') mount.BindOptions = { Propagation: value };
    else throw bad(`invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
  }
  if (mount.Target === undefined) throw bad(`invalid argument "${spec}" for "--mount" flag: target is required`);
  return mount;
}

function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (m === null) throw bad(`invalid argument "${spec}" for "--ulimit" flag: invalid ulimit argument: ${spec}`);
  const soft = Number(m[2]);
  return { Name: m[1] ?? '', Soft: soft, Hard: m[3] === undefined ? soft : Number(m[3]) };
}

function parseRestart(spec: string): { Name: string; MaximumRetryCount: number } {
  const [name = '', count] = spec.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name)) throw bad(`invalid restart policy format: ${spec}`);
  if (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count))) throw bad(`invalid restart policy format: ${spec}`);
  return { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
}

function keyValues(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((item) => {
    const eq = item.indexOf('=');
    return eq < 0 ? [item, ''] : [item.slice(0, eq), item.slice(eq + 1)];
  }));
}

function volumes(specs: string[]): { binds: string[]; anonymous: Record<string, object> } {
  const binds: string[] = [];
  const anonymous: Record<string, object> = {};
  for (const spec of specs) {
    const parts = spec.split(':');
    if (parts.length === 1) {
      if (!spec.startsWith('/')) throw bad(`invalid volume specification: '${spec}'`);
      anonymous[spec] = {};
    } else if (parts.length <= 3 && (parts[1] ?? '').startsWith('/')) binds.push(spec);
    else throw bad(`invalid volume specification: '${spec}'`);
  }
  return { binds, anonymous };
}

function memorySwap(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === '-1') return -1;
  try { return parseRamSize(value); } catch (err) { throw bad(`invalid argument "${value}" for "--memory-swap" flag: ${err instanceof Error ? err.message : ''}`); }
}

/** Config.Healthcheck from the --health-* flags, with the docker CLI's checks; durations in nanoseconds. */
export function healthConfig(flags: Flags): Record<string, unknown> | undefined {
  const durations = ['health-interval', 'health-timeout', 'health-start-period', 'health-start-interval'].map((name) => {
    const ms = flags.num(name) ?? 0;
    if (ms < 0) throw bad(`--${name} cannot be negative`);
    return Math.round(ms * 1e6);
  });
  const retries = flags.num('health-retries') ?? 0;
  const command = flags.str('health-cmd') ?? '';
  const haveSettings = command !== '' || retries !== 0 || durations.some((d) => d !== 0);
  if (flags.has('healthcheck') && !flags.bool('healthcheck')) {
    if (haveSettings) throw bad('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!haveSettings) return undefined;
  if (retries < 0) throw bad('--health-retries cannot be negative');
  const [interval, timeout, startPeriod, startInterval] = durations;
  return { Test: command === '' ? null : ['CMD-SHELL', command], Interval: interval, Timeout: timeout, StartPeriod: startPeriod,
    StartInterval: startInterval, Retries: retries };
}

function healthOnFailure(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!['none', 'restart', 'stop', 'kill'].includes(value)) throw bad(`invalid argument "${value}" for "--health-on-failure" flag: expected none, restart, stop or kill`);
  return value;
}

/** The POST /containers/create body for IMAGE [COMMAND] [ARG...]. */
export function buildCreateBody(image: string, command: string[], flags: Flags, env: NodeJS.ProcessEnv, detach: boolean): Record<string, unknown> {
  if (flags.bool('rm') && !['no', ''].includes(flags.str('restart') ?? 'no')) throw bad('Conflicting options: --restart and --rm');
  const attach = flags.list('attach').map((s) => s.toLowerCase());
  for (const stream of attach) if (!['stdin', 'stdout', 'stderr'].includes(stream)) throw bad(`invalid argument "${stream}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  if (detach && attach.length > 0) throw bad('Conflicting options: -a and -d');
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  parsePublish(flags.list('publish'), exposed, bindings);
  for (const spec of flags.list('expose')) {
    const [ports = '', proto = 'tcp'] = spec.split('/');
    for (const port of expandRange(ports, 'range for exposed port')) exposed[`${port}/${proto}`] = {};
  }
  const { binds, anonymous } = volumes(flags.list('volume'));
  const envList = [...flags.list('env-file').flatMap((file) => parseEnvFile(file, env)), ...flags.list('env').flatMap((e) => expandEnv(e, env))];
  const interactive = flags.bool('interactive');
  const entrypoint = flags.str('entrypoint');
  const cpus = flags.num('cpus');
  const logOpts = flags.list('log-opt');
  const hostConfig = {
    Binds: binds.length > 0 ? binds : undefined,
    NetworkMode: flags.str('network') ?? 'default',
    PortBindings: Object.keys(bindings).length > 0 ? bindings : undefined,
    RestartPolicy: parseRestart(flags.str('restart') ?? 'no'),
    AutoRemove: flags.bool('rm'),
    CapAdd: flags.list('cap-add').length > 0 ? flags.list('cap-add') : undefined,
    CapDrop: flags.list('cap-drop').length > 0 ? flags.list('cap-drop') : undefined,
    CgroupnsMode: flags.str('cgroupns'),
    Dns: flags.list('dns'), DnsOptions: flags.list('dns-option'), DnsSearch: flags.list('dns-search'),
    ExtraHosts: flags.list('add-host').length > 0 ? flags.list('add-host') : undefined,
    GroupAdd: flags.list('group-add').length > 0 ? flags.list('group-add') : undefined,
    IpcMode: flags.str('ipc'), PidMode: flags.str('pid'), UTSMode: flags.str('uts'), UsernsMode: flags.str('userns'),
    Privileged: flags.bool('privileged'),
    PublishAllPorts: flags.bool('publish-all'),
    ReadonlyRootfs: flags.bool('read-only'),
    SecurityOpt: flags.list('security-opt').length > 0 ? flags.list('security-opt') : undefined,
    Tmpfs: flags.list('tmpfs').length > 0 ? Object.fromEntries(flags.list('tmpfs').map((t) => { const i = t.indexOf(':'); return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)]; })) : undefined,
    Init: flags.bool('init') ? true : undefined,
    Memory: flags.num('memory') ?? 0,
    MemoryReservation: flags.num('memory-reservation') ?? 0,
    MemorySwap: memorySwap(flags.str('memory-swap')),
    NanoCpus: cpus === undefined ? 0 : Math.round(cpus * 1e9),
    CpuShares: flags.num('cpu-shares') ?? 0,
    CpusetCpus: flags.str('cpuset-cpus') ?? '',
    PidsLimit: flags.num('pids-limit'),
    OomKillDisable: flags.bool('oom-kill-disable') || undefined,
    ShmSize: flags.num('shm-size'),
    Sysctls: flags.list('sysctl').length > 0 ? keyValues(flags.list('sysctl')) : undefined,
    Ulimits: flags.list('ulimit').length > 0 ? flags.list('ulimit').map(parseUlimit) : undefined,
    LogConfig: { Type: flags.str('log-driver') ?? '', Config: keyValues(logOpts) },
    Mounts: flags.list('mount').length > 0 ? flags.list('mount').map(parseMount) : undefined,
    Devices: flags.list('device').map((d) => { const [host = '', inside = host, perms = 'rwm'] = d.split(':'); return { PathOnHost: host, PathInContainer: inside, CgroupPermissions: perms }; }),
    VolumesFrom: flags.list('volumes-from').length > 0 ? flags.list('volumes-from') : undefined,
    Runtime: flags.str('runtime'),
    HealthOnFailure: healthOnFailure(flags.str('health-on-failure')),
  };
  return {
    Hostname: flags.str('hostname') ?? '',
    Domainname: flags.str('domainname') ?? '',
    User: flags.str('user') ?? '',
    AttachStdin: !detach && (attach.length === 0 ? interactive : attach.includes('stdin')),
    AttachStdout: !detach && (attach.length === 0 || attach.includes('stdout')),
    AttachStderr: !detach && (attach.length === 0 || attach.includes('stderr')),
    ExposedPorts: Object.keys(exposed).length > 0 ? exposed : undefined,
    Tty: flags.bool('tty'),
    OpenStdin: interactive,
    StdinOnce: interactive && !detach,
    Env: envList,
    Cmd: command.length > 0 ? command : undefined,
    Image: image,
    Volumes: Object.keys(anonymous).length > 0 ? anonymous : undefined,
    WorkingDir: flags.str('workdir') ?? '',
    Entrypoint: entrypoint === undefined ? undefined : [entrypoint],
    Labels: keyValues(flags.list('label')),
    StopSignal: flags.str('stop-signal'),
    StopTimeout: flags.num('stop-timeout'),
    Healthcheck: healthConfig(flags),
    HostConfig: hostConfig,
  };
}
