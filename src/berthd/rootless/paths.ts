// Where a rootless berthd keeps its state, from the XDG base directories as rootless dockerd
// and podman do: data in ~/.local/share/berth, runtime state and the socket in
// $XDG_RUNTIME_DIR/berth, the config file in ~/.config/berth/daemon.json.
import path from 'node:path';
import { BerthError } from '../../errors/berth-error.js';
import type { PathDefaults } from '../config.js';

export function rootlessPathDefaults(env: NodeJS.ProcessEnv, home: string): PathDefaults {
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (!runtimeDir || !path.isAbsolute(runtimeDir)) {
    throw new BerthError('invalid_argument', 'NO_RUNTIME_DIR',
      `rootless berthd needs XDG_RUNTIME_DIR set to an absolute directory owned by the user (it is ${runtimeDir === undefined ? 'unset' : JSON.stringify(runtimeDir)})`,
      { hint: 'log in through systemd-logind (it makes /run/user/$UID), or export XDG_RUNTIME_DIR=/some/private/dir' });
  }
  if (!path.isAbsolute(home)) throw new BerthError('invalid_argument', 'NO_HOME', `rootless berthd needs an absolute home directory (HOME is ${JSON.stringify(home)})`);
  const dataHome = absoluteOr(env['XDG_DATA_HOME'], path.join(home, '.local/share'));
  const configHome = absoluteOr(env['XDG_CONFIG_HOME'], path.join(home, '.config'));
  return {
    dataRoot: path.join(dataHome, 'berth'),
    execRoot: path.join(runtimeDir, 'berth'),
    configFile: path.join(configHome, 'berth', 'daemon.json'),
  };
}

/** XDG variables that are relative are ignored, as the spec says */
function absoluteOr(value: string | undefined, fallback: string): string {
  return value && path.isAbsolute(value) ? value : fallback;
}
