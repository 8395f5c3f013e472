// Host-global names of one berth instance. Everything berth creates on the host carries the
// instance token, so two daemons coexist and a startup sweep finds exactly its own leftovers.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors/berth-error.js';

export const MAX_LINK_NAME = 15;

/** 5 hex chars from the data root: stable across restarts, distinct between daemons */
export function instanceFromDataRoot(dataRoot: string): string {
  return createHash('sha256').update(dataRoot).digest('hex').slice(0, 5);
}

export function validateInstance(instance: string): string {
  if (!/^[a-z0-9]{1,6}$/.test(instance)) {
    throw invalidArgument('INVALID_INSTANCE', `invalid network instance name "${instance}": 1-6 lowercase letters or digits`);
  }
  return instance;
}

export interface InstanceNames {
  instance: string;
  bridgePrefix: string;
  vethPrefix: string;
  table: string;
  bridge(networkId: string): string;
  veth(endpointId: string): string;
}

export function instanceNames(instance: string): InstanceNames {
  validateInstance(instance);
  const bridgePrefix = `bb${instance}`;
  const vethPrefix = `bv${instance}`;
  return {
    instance,
    bridgePrefix,
    vethPrefix,
    table: `berth-${instance}`,
    bridge: (networkId) => `${bridgePrefix}${networkId}`.slice(0, MAX_LINK_NAME - 2),
    veth: (endpointId) => `${vethPrefix}${endpointId}`.slice(0, MAX_LINK_NAME),
  };
}
