// What the system routes need from the daemon.
import type { DockerEvent, EventFilters, EventSubscription } from '../../../daemon/events/event-bus.js';

export interface VersionAnswer {
  Platform: { Name: string };
  Components: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
  Experimental?: boolean;
}

export interface SystemBackend {
  version(): VersionAnswer;
  info(): Promise<Record<string, unknown>>;
  diskUsage(types: readonly string[]): Promise<Record<string, unknown>>;
  /** check registry credentials (`docker login`) */
  auth(credentials: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): Promise<{ Status: string; IdentityToken?: string }>;
  subscribeEvents(filters: EventFilters, sinceNanos: number | undefined, onEvent: (event: DockerEvent) => void): EventSubscription;
}
