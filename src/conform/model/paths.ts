import type { EventObject } from 'xstate';

/** One step of a generated path: the event, and the model snapshot it leads to. */
export interface ModelStep<TSnapshot, TEvent extends EventObject = EventObject> {
  event: TEvent;
  state: TSnapshot;
}

export interface ModelPath<TSnapshot, TEvent extends EventObject = EventObject> {
  /** Which generator produced it and for which configuration, for failure messages. */
  origin: string;
  /** Starts with the `xstate.init` step. */
  steps: Array<ModelStep<TSnapshot, TEvent>>;
}

export function describeEvent(event: EventObject): string {
  const { type, ...rest } = event as EventObject & Record<string, unknown>;
  const detail = Object.entries(rest)
    .map(([key, value]) => {
      if (value && typeof value === 'object') {
        const v = value as Record<string, unknown>;
        // Registrations and removals: name the broker, not the whole record.
        if ('brokerAddr' in v)
          return `${key}=${String(v.brokerAddr)}${'reason' in v ? `(${String(v.reason)})` : ''}${'connectionId' in v ? `@c${String(v.connectionId)}` : ''}`;
        if (value instanceof Error) return `${key}=${value.message}`;
      }
      return `${key}=${JSON.stringify(value)}`;
    })
    .join(' ');
  return detail ? `${type} {${detail}}` : type;
}

export function describePath(path: ModelPath<unknown>, stateName: (snapshot: any) => string): string {
  return (
    `[${path.origin}] ` + path.steps.map((s) => `${describeEvent(s.event)} => ${stateName(s.state)}`).join('  →  ')
  );
}

/** Drops paths whose event sequence is a prefix of a longer path's (as @xstate/graph's TestModel does). */
export function withoutPrefixPaths<T extends ModelPath<unknown>>(
  paths: T[],
  serializeEvent: (e: EventObject) => string = (e) => JSON.stringify(e),
): T[] {
  const keyed = paths.map((path) => ({ path, events: path.steps.slice(1).map((s) => serializeEvent(s.event)) }));
  keyed.sort((a, b) => b.events.length - a.events.length);
  const kept: typeof keyed = [];
  outer: for (const candidate of keyed) {
    for (const longer of kept) {
      if (candidate.events.every((e, i) => longer.events[i] === e)) continue outer;
    }
    kept.push(candidate);
  }
  return kept.map((k) => k.path);
}
