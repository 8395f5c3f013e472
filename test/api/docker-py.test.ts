// docker-py (Debian's python3-docker) against a private berthd: ping, version negotiation,
// images, containers (run detached and attached, logs, exec_run, list filters, stop,
// remove), volumes and networks. The script prints one JSON object the test checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../support/requirements.js';
import { dockerPyMissing, runPython } from './docker-py.js';
import { useBerthdWithBusybox, type Berthd } from './harness.js';

const skip = requires('root') || dockerPyMissing;
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const SCRIPT = String.raw`
import json, sys, time
import docker

base_url, token = sys.argv[1], sys.argv[2]
name, vol_name, net_name = 'py-' + token, 'berth-pyvol-' + token, 'berth-pynet-' + token
client = docker.DockerClient(base_url=base_url, version='auto', timeout=60)
out = {'ping': client.ping()}
version = client.version()
out['api'] = version['ApiVersion']
out['negotiated'] = client.api.api_version
out['tags'] = sorted(tag for image in client.images.list() for tag in image.tags)

ctr = client.containers.run('busybox', ['sh', '-c', 'echo hello-py; sleep 60'], detach=True, name=name, labels={'py': token})
ctr.reload()
out['status'] = ctr.status
logs = b''
for _ in range(100):
    logs = ctr.logs()
    if b'hello-py' in logs:
        break
    time.sleep(0.1)
out['logs'] = logs.decode()
result = ctr.exec_run(['sh', '-c', 'echo from-exec; exit 3'])
out['exec'] = [result.exit_code, result.output.decode()]
out['listed'] = [c.name for c in client.containers.list(filters={'label': 'py=' + token})]
ctr.stop(timeout=1)
ctr.reload()
out['stopped'] = [ctr.status, ctr.attrs['State']['ExitCode']]
ctr.remove()
out['removed'] = name not in [c.name for c in client.containers.list(all=True)]

volume = client.volumes.create(name=vol_name)
out['volume'] = volume.name
out['volumes'] = [v.name for v in client.volumes.list()]
out['attached_run'] = client.containers.run('busybox', ['sh', '-c', 'echo kept > /data/f; cat /data/f'],
                                            volumes={vol_name: {'bind': '/data', 'mode': 'rw'}}, remove=True).decode()
volume.remove()
out['volume_gone'] = vol_name not in [v.name for v in client.volumes.list()]

network = client.networks.create(net_name, driver='bridge')
out['network'] = network.name
out['networks'] = [n.name for n in client.networks.list()]
network.remove()
out['network_gone'] = net_name not in [n.name for n in client.networks.list()]
client.close()
print(json.dumps(out))
`;


interface PyResult {
  ping: boolean; api: string; negotiated: string; tags: string[]; status: string; logs: string; exec: [number, string];
  listed: string[]; stopped: [string, number]; removed: boolean; volume: string; volumes: string[]; attached_run: string;
  volume_gone: boolean; network: string; networks: string[]; network_gone: boolean;
}

test('docker-py drives berthd: ping, version, images, containers, exec, volumes, networks', { skip }, async () => {
  const result = await runPython(SCRIPT, [`unix://${daemon.socket}`, daemon.token], { ...process.env, DOCKER_CONFIG: daemon.env['DOCKER_CONFIG'] });
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout) as PyResult;
  assert.equal(out.ping, true);
  assert.match(out.api, /^1\.\d+$/);
  assert.equal(out.negotiated, out.api, 'version=auto takes the server version');
  assert.ok(out.tags.includes('busybox:latest'), out.tags.join(','));
  assert.equal(out.status, 'running');
  assert.equal(out.logs, 'hello-py\n');
  assert.deepEqual(out.exec, [3, 'from-exec\n']);
  assert.deepEqual(out.listed, [`py-${daemon.token}`]);
  assert.equal(out.stopped[0], 'exited');
  assert.ok(out.stopped[1] === 137 || out.stopped[1] === 143, String(out.stopped[1]));
  assert.equal(out.removed, true);
  assert.equal(out.volume, `berth-pyvol-${daemon.token}`);
  assert.ok(out.volumes.includes(out.volume));
  assert.equal(out.attached_run, 'kept\n');
  assert.equal(out.volume_gone, true);
  assert.equal(out.network, `berth-pynet-${daemon.token}`);
  assert.ok(out.networks.includes(out.network) && out.networks.includes('bridge'), out.networks.join(','));
  assert.equal(out.network_gone, true);
});
