// Child process of crash.test.ts: makes a network and a sandbox with a published port, says
// "ready", and waits to be killed with SIGKILL. Does nothing unless called with its marker.
import { NetworksService } from '../../src/daemon/networks/service.js';

const [marker, dataRoot, execRoot, instance, hostPort] = process.argv.slice(2);
if (marker === '--berth-crash-child' && dataRoot && execRoot && instance && hostPort) {
  const service = new NetworksService({ dataRoot, execRoot, instance });
  await service.start([]);
  await service.create({ Name: `crash-${instance}` });
  await service.createSandbox(`c${instance}crash`, {
    name: 'crash', hostname: 'crash', networkMode: `crash-${instance}`,
    portBindings: { '80/tcp': [{ HostIp: '', HostPort: hostPort }] },
  });
  process.stdout.write('ready\n');
  setInterval(() => undefined, 1000);
}
