// Help text in docker's layout, generated from the command definitions.
import type { Command } from 'commander';
import type { CommandDef } from './command.js';
import { COMMANDS, MANAGEMENT } from './registry.js';

function columns(rows: Array<[string, string]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([name]) => name.length));
  return rows.map(([name, text]) => `${indent}${name.padEnd(width)}   ${text.split('\n').join(`\n${indent}${' '.repeat(width + 3)}`)}`).join('\n');
}

export function commandHelp(def: CommandDef, path: string, cmd: Command): string {
  const options = cmd.options.map((o): [string, string] => {
    const flags = o.flags.replace(/<([^>]+)>/, (_m, type: string) => type.replace(/\.\.\.$/, ''));
    return [o.short === undefined ? `    ${flags}` : flags, o.description];
  });
  const aliases = def.aliases === undefined ? '' : `\nAliases:\n  ${def.aliases.join(', ')}\n`;
  return `\nUsage:  ${path} ${def.usage}\n\n${def.description}\n${aliases}\nOptions:\n${columns(options)}\n`;
}

export function topLevelHelp(): string {
  const management = Object.entries(MANAGEMENT).map(([name, group]): [string, string] => [name, group.summary]);
  const commands = Object.entries(COMMANDS).map(([name, entry]): [string, string] => [name, entry.summary]);
  return `\nUsage:  berth [OPTIONS] COMMAND\n\nA Docker-compatible container engine client\n\nGlobal Options:\n${columns([
    ['-D, --debug', 'Enable debug mode'],
    ['-H, --host string', 'Daemon socket to connect to (default: $BERTH_HOST, $DOCKER_HOST, unix:///run/berth/berth.sock)'],
    ['--tls', 'Use TLS; implied by --tlsverify'],
    ['--tlscacert string', 'Trust certs signed only by this CA (default "$DOCKER_CERT_PATH/ca.pem")'],
    ['--tlscert string', 'Path to TLS certificate file (default "$DOCKER_CERT_PATH/cert.pem")'],
    ['--tlskey string', 'Path to TLS key file (default "$DOCKER_CERT_PATH/key.pem")'],
    ['--tlsverify', 'Use TLS and verify the remote'],
    ['-v, --version', 'Print version information and quit'],
  ])}\n\nManagement Commands:\n${columns(management)}\n\nCommands:\n${columns(commands)}\n\nRun 'berth COMMAND --help' for more information on a command.\n`;
}

export function managementHelp(name: string): string {
  const group = MANAGEMENT[name];
  if (group === undefined) return '';
  const rows = Object.entries(group.subs).map(([sub, target]): [string, string] =>
    [sub, typeof target === 'string' ? COMMANDS[target]?.summary ?? '' : target.summary]);
  return `\nUsage:  berth ${name} COMMAND\n\n${group.summary}\n\nCommands:\n${columns(rows)}\n\nRun 'berth ${name} COMMAND --help' for more information on a command.\n`;
}
