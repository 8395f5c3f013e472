// berth's --health-on-failure (docker has none; podman's names): what happens once a
// container turns unhealthy, for each action, driven through the berth CLI against a
// private berthd, with `berth ps` showing the health; and nothing leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../support/requirements.js';
import { dockerOk, useBerthdWithBusybox, type Berthd } from '../api/harness.js';
import { berthCommand, execFile } from '../cli/support/harness.js';
import { healthOf, inspectState, waitFor } from './support.js';

const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

async function berth(args: string[]): Promise<string> {
  const [file = '', ...prefix] = berthCommand();
  const result = await execFile(file, [...prefix, ...args], { env: daemon.env });
  if (result.code !== 0) throw new Error(`berth ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

/** a container whose check fails at once and turns it unhealthy after one failure */
async function runFailing(name: string, action: string | undefined, extra: string[] = [], command = ['sleep', '60']): Promise<void> {
  await berth(['run', '-d', '--name', name, '--health-cmd', 'exit 1', '--health-interval', '300ms', '--health-retries', '1',
    ...(action === undefined ? [] : ['--health-on-failure', action]), ...extra, 'busybox', ...command]);
}

test('none (the default): the container keeps running, unhealthy, and berth ps says so', { skip }, async () => {
  const name = `none-${daemon.token}`;
  await runFailing(name, undefined);
  await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'unhealthy', 15_000);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(await inspectState(daemon, name, '{{.State.Running}}'), 'true');
  assert.match(await berth(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}']), /^Up .* \(unhealthy\)$/);
  const hostConfig = JSON.parse(await inspectState(daemon, name, '{{json .HostConfig}}')) as { HealthOnFailure?: string };
  assert.equal(hostConfig.HealthOnFailure, undefined);
  await dockerOk(daemon, ['rm', '-f', name]);
});

test('restart: the unhealthy container is restarted and its checks start over', { skip }, async () => {
  const name = `restart-${daemon.token}`;
  await runFailing(name, 'restart');
  const firstStart = await inspectState(daemon, name, '{{.State.StartedAt}}');
  assert.equal(await inspectState(daemon, name, '{{.HostConfig.HealthOnFailure}}'), 'restart');
  await waitFor(() => inspectState(daemon, name, '{{.State.StartedAt}}'), (startedAt) => startedAt !== firstStart, 15_000);
  assert.equal(await inspectState(daemon, name, '{{.State.Running}}'), 'true');
  await dockerOk(daemon, ['rm', '-f', name]);
});

test('stop: the container is stopped with its stop signal and stays down despite --restart always', { skip }, async () => {
  const name = `stop-${daemon.token}`;
  await runFailing(name, 'stop', ['--restart', 'always', '--stop-timeout', '5'],
    ['sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.1; done']);
  await waitFor(() => inspectState(daemon, name, '{{.State.Status}}'), (status) => status === 'exited', 15_000);
  // the stop signal (SIGTERM) reached it: its trap's exit code, not a SIGKILL's 137
  assert.equal(await inspectState(daemon, name, '{{.State.ExitCode}}'), '7');
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(await inspectState(daemon, name, '{{.State.Status}}'), 'exited');
  assert.equal((await healthOf(daemon, name))?.Status, 'unhealthy');
  await dockerOk(daemon, ['rm', name]);
});

test('kill: the container gets SIGKILL', { skip }, async () => {
  const name = `kill-${daemon.token}`;
  await runFailing(name, 'kill');
  await waitFor(() => inspectState(daemon, name, '{{.State.Status}}'), (status) => status === 'exited', 15_000);
  assert.equal(await inspectState(daemon, name, '{{.State.ExitCode}}'), '137');
  await dockerOk(daemon, ['rm', name]);
});
