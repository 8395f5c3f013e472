// Every verb, its one-line summary and where its module lives. Modules load lazily so a
// `berth ps` parses one command file, not all of them.
import type { CommandDef } from './command.js';

type Loader = () => Promise<{ default: CommandDef }>;
export interface Entry { summary: string; load: Loader }

export const COMMANDS: Record<string, Entry> = {
  attach: { summary: 'Attach local standard input, output, and error streams to a running container', load: () => import('./commands/attach.js') },
  commit: { summary: "Create a new image from a container's changes", load: () => import('./commands/commit.js') },
  cp: { summary: 'Copy files/folders between a container and the local filesystem', load: () => import('./commands/cp.js') },
  create: { summary: 'Create a new container', load: () => import('./commands/create.js') },
  diff: { summary: "Inspect changes to files or directories on a container's filesystem", load: () => import('./commands/diff.js') },
  events: { summary: 'Get real time events from the server', load: () => import('./commands/events.js') },
  exec: { summary: 'Execute a command in a running container', load: () => import('./commands/exec.js') },
  export: { summary: "Export a container's filesystem as a tar archive", load: () => import('./commands/export.js') },
  history: { summary: 'Show the history of an image', load: () => import('./commands/history.js') },
  images: { summary: 'List images', load: () => import('./commands/images.js') },
  import: { summary: 'Import the contents from a tarball to create a filesystem image', load: () => import('./commands/import.js') },
  info: { summary: 'Display system-wide information', load: () => import('./commands/info.js') },
  inspect: { summary: 'Return low-level information on Docker objects', load: () => import('./commands/inspect.js') },
  kill: { summary: 'Kill one or more running containers', load: () => import('./commands/kill.js') },
  load: { summary: 'Load an image from a tar archive or STDIN', load: () => import('./commands/load.js') },
  login: { summary: 'Log in to a registry', load: () => import('./commands/login.js') },
  logout: { summary: 'Log out from a registry', load: () => import('./commands/logout.js') },
  logs: { summary: 'Fetch the logs of a container', load: () => import('./commands/logs.js') },
  pause: { summary: 'Pause all processes within one or more containers', load: () => import('./commands/pause.js') },
  port: { summary: 'List port mappings or a specific mapping for the container', load: () => import('./commands/port.js') },
  ps: { summary: 'List containers', load: () => import('./commands/ps.js') },
  pull: { summary: 'Download an image from a registry', load: () => import('./commands/pull.js') },
  push: { summary: 'Upload an image to a registry', load: () => import('./commands/push.js') },
  rename: { summary: 'Rename a container', load: () => import('./commands/rename.js') },
  restart: { summary: 'Restart one or more containers', load: () => import('./commands/restart.js') },
  rm: { summary: 'Remove one or more containers', load: () => import('./commands/rm.js') },
  rmi: { summary: 'Remove one or more images', load: () => import('./commands/rmi.js') },
  run: { summary: 'Create and run a new container from an image', load: () => import('./commands/run.js') },
  save: { summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: () => import('./commands/save.js') },
  start: { summary: 'Start one or more stopped containers', load: () => import('./commands/start.js') },
  stats: { summary: 'Display a live stream of container(s) resource usage statistics', load: () => import('./commands/stats.js') },
  stop: { summary: 'Stop one or more running containers', load: () => import('./commands/stop.js') },
  tag: { summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: () => import('./commands/tag.js') },
  top: { summary: 'Display the running processes of a container', load: () => import('./commands/top.js') },
  unpause: { summary: 'Unpause all processes within one or more containers', load: () => import('./commands/unpause.js') },
  update: { summary: 'Update configuration of one or more containers', load: () => import('./commands/update.js') },
  version: { summary: 'Show the Docker version information', load: () => import('./commands/version.js') },
  wait: { summary: 'Block until one or more containers stop, then print their exit codes', load: () => import('./commands/wait.js') },
  build: { summary: 'Build an image from a Dockerfile', load: () => import('./commands/build.js') },
  completion: { summary: 'Generate the autocompletion script for bash or zsh', load: () => import('./commands/completion.js') },
};

const entry = (summary: string, load: Loader): Entry => ({ summary, load });

/** management command -> sub-verb -> a top-level verb or its own entry */
export const MANAGEMENT: Record<string, { summary: string; subs: Record<string, string | Entry> }> = {
  container: {
    summary: 'Manage containers',
    subs: {
      attach: 'attach', commit: 'commit', cp: 'cp', create: 'create', diff: 'diff', exec: 'exec', export: 'export',
      inspect: entry('Display detailed information on one or more containers', () => import('./commands/container-inspect.js')),
      kill: 'kill', logs: 'logs', ls: 'ps', list: 'ps', ps: 'ps', pause: 'pause', port: 'port',
      prune: entry('Remove all stopped containers', () => import('./commands/container-prune.js')),
      rename: 'rename', restart: 'restart', rm: 'rm', remove: 'rm', run: 'run', start: 'start', stats: 'stats', stop: 'stop',
      top: 'top', unpause: 'unpause', update: 'update', wait: 'wait',
    },
  },
  image: {
    summary: 'Manage images',
    subs: {
      build: 'build', history: 'history', import: 'import', load: 'load', ls: 'images', list: 'images', pull: 'pull', push: 'push',
      inspect: entry('Display detailed information on one or more images', () => import('./commands/image-inspect.js')),
      prune: entry('Remove unused images', () => import('./commands/image-prune.js')),
      rm: 'rmi', remove: 'rmi', save: 'save', tag: 'tag',
    },
  },
  network: {
    summary: 'Manage networks',
    subs: {
      connect: entry('Connect a container to a network', () => import('./commands/network-connect.js')),
      create: entry('Create a network', () => import('./commands/network-create.js')),
      disconnect: entry('Disconnect a container from a network', () => import('./commands/network-disconnect.js')),
      inspect: entry('Display detailed information on one or more networks', () => import('./commands/network-inspect.js')),
      ls: entry('List networks', () => import('./commands/network-ls.js')),
      list: entry('List networks', () => import('./commands/network-ls.js')),
      prune: entry('Remove all unused networks', () => import('./commands/network-prune.js')),
      rm: entry('Remove one or more networks', () => import('./commands/network-rm.js')),
      remove: entry('Remove one or more networks', () => import('./commands/network-rm.js')),
    },
  },
  generate: {
    summary: 'Generate systemd units',
    subs: {
      systemd: entry('Generate a systemd unit that runs a container', () => import('./commands/generate-systemd.js')),
    },
  },
  builder: {
    summary: 'Manage builds',
    subs: {
      build: 'build',
      prune: entry('Remove build cache', () => import('./commands/builder-prune.js')),
    },
  },
  volume: {
    summary: 'Manage volumes',
    subs: {
      create: entry('Create a volume', () => import('./commands/volume-create.js')),
      inspect: entry('Display detailed information on one or more volumes', () => import('./commands/volume-inspect.js')),
      ls: entry('List volumes', () => import('./commands/volume-ls.js')),
      list: entry('List volumes', () => import('./commands/volume-ls.js')),
      prune: entry('Remove unused local volumes', () => import('./commands/volume-prune.js')),
      rm: entry('Remove one or more volumes', () => import('./commands/volume-rm.js')),
      remove: entry('Remove one or more volumes', () => import('./commands/volume-rm.js')),
    },
  },
  system: {
    summary: 'Manage Docker',
    subs: {
      check: entry('Find (and with --repair remove) leftovers the metadata no longer references', () => import('./commands/system-check.js')),
      df: entry('Show docker disk usage', () => import('./commands/system-df.js')),
      events: 'events', info: 'info',
      prune: entry('Remove unused data', () => import('./commands/system-prune.js')),
    },
  },
};

/** Resolve argv words to the entry to run and how many words named it. */
export function lookupCommand(words: readonly string[]): { entry: Entry; path: string[] } | { management: string } | undefined {
  const [first, second] = words;
  if (first === undefined) return undefined;
  const group = MANAGEMENT[first];
  if (group !== undefined) {
    const sub = second === undefined ? undefined : group.subs[second];
    if (second === undefined || sub === undefined) return { management: first };
    const target = typeof sub === 'string' ? COMMANDS[sub] : sub;
    return target === undefined ? undefined : { entry: target, path: [first, second] };
  }
  const top = COMMANDS[first];
  return top === undefined ? undefined : { entry: top, path: [first] };
}
