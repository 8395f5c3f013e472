import { CLIENT_API_VERSION } from '../../client/transport.js';
import type { ServerVersion } from '../../client/types.js';
import { CLI_VERSION } from '../app.js';
import { defineCommand } from '../command.js';
import { describeError } from '../errors.js';
import { renderOne } from '../format/render.js';

const ENGINE_DETAILS: Array<[string, string]> = [
  ['ApiVersion', 'API version'], ['GitCommit', 'Git commit'], ['GoVersion', 'Go version'], ['BuildTime', 'Built'],
  ['Os', 'OS'], ['Experimental', 'Experimental'],
];

function serverLines(server: ServerVersion): string {
  let text = `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n`;
  const components = server.Components ?? [{ Name: 'Engine', Version: server.Version, Details: {} }];
  for (const component of components) {
    text += ` ${component.Name}:\n  Version:\t${component.Version}\n`;
    const details = component.Details ?? {};
    if (component.Name === 'Engine') {
      text += `  API version:\t${server.ApiVersion} (minimum version ${server.MinAPIVersion ?? ''})\n`;
      text += `  Go version:\t${server.GoVersion ?? ''}\n  Git commit:\t${server.GitCommit ?? ''}\n  Built:\t${server.BuildTime ?? ''}\n`;
      text += `  OS/Arch:\t${server.Os}/${server.Arch}\n  Experimental:\t${String(server.Experimental ?? false)}\n`;
      continue;
    }
    for (const [key, value] of Object.entries(details).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!ENGINE_DETAILS.some(([k]) => k === key)) text += `  ${key}:\t${String(value)}\n`;
    }
  }
  return text;
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Show the berth version information',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
  },
  async run(ctx, _args, flags) {
    const client = ctx.client();
    let server: ServerVersion | undefined;
    let failure: unknown;
    try {
      server = await client.version();
    } catch (err) {
      failure = err;
    }
    const negotiated = server === undefined ? CLIENT_API_VERSION : await client.transport.apiVersion();
    const clientInfo = {
      Platform: { Name: '' }, Version: CLI_VERSION, ApiVersion: negotiated, DefaultAPIVersion: CLIENT_API_VERSION,
      GitCommit: '', GoVersion: `node${process.versions.node}`, Os: process.platform, Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      BuildTime: '', Context: 'default',
    };
    const format = flags.str('format');
    if (format !== undefined) {
      ctx.out(renderOne({ Client: clientInfo, Server: server ?? null }, format, '*command.VersionInfo'));
    } else {
      const downgraded = negotiated !== CLIENT_API_VERSION ? ` (downgraded from ${CLIENT_API_VERSION})` : '';
      let text = `Client:\n Version:\t${CLI_VERSION}\n API version:\t${negotiated}${downgraded}\n Node version:\t${process.versions.node}\n`;
      text += ` OS/Arch:\t${clientInfo.Os}/${clientInfo.Arch}\n Context:\tdefault\n`;
      if (server !== undefined) text += `\n${serverLines(server)}`;
      // docker's tabwriter puts every value at column 20
      ctx.out(text.replace(/^( +[^:\n]+:)\t/gm, (_m, label: string) => label.padEnd(20)));
    }
    if (failure !== undefined) {
      ctx.err(`${describeError(failure)}\n`);
      return 1;
    }
    return 0;
  },
});
