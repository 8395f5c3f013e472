// The daemon's event stream (`docker events`): every service publishes here; the API
// replays recent events for `since` and follows live ones until `until`.
export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'builder';

export interface DockerEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** legacy fields (API < 1.52 still shows them for containers and images) */
  status?: string;
  id?: string;
  from?: string;
}

export type EventFilters = ReadonlyMap<string, readonly string[]>;

export interface EventSubscription {
  /** events already recorded that match (since..until) */
  readonly past: DockerEvent[];
  /** stop receiving */
  close(): void;
}

const HISTORY = 1024;

export class EventBus {
  private readonly history: DockerEvent[] = [];
  private readonly listeners = new Set<(event: DockerEvent) => void>();
  private readonly followers: Array<(event: DockerEvent) => void> = [];

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): DockerEvent {
    const nanos = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const event: DockerEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nanos / 1_000_000_000n),
      timeNano: Number(nanos),
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes['image'] !== undefined) event.from = attributes['image'];
    }
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const listener of this.listeners) listener(event);
    for (const follower of this.followers) follower(event);
    return event;
  }

  /**
   * Events that follow from another (a container's `die` -> its volumes' `unmount`): `derive`
   * runs once every subscriber has seen the event, so what it publishes reaches them after it.
   */
  follow(derive: (event: DockerEvent) => void): void {
    this.followers.push(derive);
  }

  /**
   * Replay recorded events after `sinceNanos` and deliver new ones to `onEvent`, both
   * filtered. The caller stops at `until` itself (it also needs a timer for it).
   */
  subscribe(filters: EventFilters, sinceNanos: number | undefined, onEvent: (event: DockerEvent) => void): EventSubscription {
    const past = sinceNanos === undefined ? [] : this.history.filter((e) => e.timeNano >= sinceNanos && matchesEvent(e, filters));
    const listener = (event: DockerEvent): void => { if (matchesEvent(event, filters)) onEvent(event); };
    this.listeners.add(listener);
    return { past, close: () => { this.listeners.delete(listener); } };
  }
}

/** docker's event filters: container, image, event, type, label, network, volume, daemon, scope */
export function matchesEvent(event: DockerEvent, filters: EventFilters): boolean {
  const attrs = event.Actor.Attributes;
  const any = (key: string, test: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(test);
  };
  const idOrName = (type: EventType) => (value: string): boolean =>
    event.Type === type && (event.Actor.ID === value || event.Actor.ID.startsWith(value) || attrs['name'] === value);
  return any('type', (v) => event.Type === v)
    && any('event', (v) => event.Action === v || event.Action.startsWith(`${v}:`))
    && any('container', idOrName('container'))
    && any('network', idOrName('network'))
    && any('volume', idOrName('volume'))
    && any('daemon', idOrName('daemon'))
    && any('scope', (v) => v === 'local')
    && any('image', (v) => attrs['image'] === v || (event.Type === 'image' && (event.Actor.ID === v || attrs['name'] === v)))
    && any('label', (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? attrs[v] !== undefined : attrs[v.slice(0, eq)] === v.slice(eq + 1);
    });
}
