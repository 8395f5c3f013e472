// berthd: parse flags and daemon.json, write the pid file, start the daemon, stop it
// cleanly on SIGTERM/SIGINT (containers get their stop signal and timeout). Started by an
// ordinary user, it first re-executes itself in a user namespace (rootless/reexec.ts).
import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { isBerthError, errnoCode } from '../errors/berth-error.js';
import { loadConfigFile, resolveConfig, ROOTFUL_DEFAULTS, type PathDefaults } from './config.js';
import { parseFlags } from './flags.js';
import { createLogger } from './logger.js';
import { daemonMode, type DaemonMode } from './rootless/mode.js';
import { rootlessPathDefaults } from './rootless/paths.js';
import { rootfulPlatform, rootlessPlatform } from './rootless/platform.js';
import { ROOTLESS_CHILD_ENV, runRootlessParent } from './rootless/reexec.js';
import { startDaemon } from './wiring.js';

async function writePidfile(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(existing.trim());
  if (pid > 0 && pid !== process.pid) {
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    if (alive) throw new Error(`pid file ${file} names a running daemon (pid ${pid}); is another berthd using it?`);
  }
  const handle = await open(file, 'w', 0o644);
  await handle.writeFile(`${process.pid}\n`);
  await handle.close();
}

async function currentMode(): Promise<DaemonMode> {
  const uid = process.getuid?.() ?? 0;
  return daemonMode(uid, process.env[ROOTLESS_CHILD_ENV], await readFile('/proc/self/uid_map', 'utf8').catch(() => ''));
}

async function main(): Promise<void> {
  const mode = await currentMode();
  let parsed;
  try {
    parsed = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    throw err;
  }
  const defaults: PathDefaults = mode === 'rootful' ? ROOTFUL_DEFAULTS : rootlessPathDefaults(process.env, os.homedir());
  const file = await loadConfigFile(parsed.configFile ?? defaults.configFile, parsed.configFile !== undefined);
  const config = resolveConfig(parsed.config, file, defaults);
  if (mode === 'rootless-parent') {
    // flags and config were checked above, so mistakes show before any namespace is made
    process.exitCode = await runRootlessParent(process.argv.slice(1));
    return;
  }
  const log = createLogger(config.logLevel);
  await writePidfile(config.pidfile);
  // handlers first: a SIGTERM during startup waits for it, then shuts down cleanly
  let stopping = false;
  const starting = (mode === 'rootful' ? rootfulPlatform() : rootlessPlatform(config.execRoot))
    .then((platform) => startDaemon(config, log, platform).catch(async (err: unknown) => {
      // the rootless netns' pasta runs outside the daemon's namespaces: it must not outlive a failed start
      await platform.close().catch(() => undefined);
      throw err;
    }));
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    void starting.then((daemon) => daemon.stop())
      .catch((err: unknown) => log.error(`shutdown: ${String(err)}`))
      .finally(() => { void unlink(config.pidfile).catch(() => undefined).then(() => process.exit(0)); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => undefined);
  try {
    await starting;
  } catch (err) {
    await unlink(config.pidfile).catch(() => undefined);
    throw err;
  }
  log.info(`berthd started${mode === 'rootful' ? '' : ' rootless'} (data-root ${config.dataRoot}, exec-root ${config.execRoot})`);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  const hint = isBerthError(err) && err.hint ? ` (${err.hint})` : '';
  process.stderr.write(`berthd: ${message}${hint}${errnoCode(err) === 'EACCES' ? ' (are you root?)' : ''}\n`);
  process.exit(1);
});
