import type { InspectionEvent } from 'xstate';

/**
 * The messages a Stately inspector (the Stately UI, `createWebSocketReceiver`
 * from @statelyai/inspect) reads: one JSON object per WebSocket message, in
 * the shape @statelyai/inspect's `createWebSocketInspector` sends.
 */
export type InspectorMessage =
  | (MessageBase & {
      type: '@xstate.actor';
      name: string;
      parentId: string | undefined;
      definition: string | undefined;
      snapshot: unknown;
    })
  | (MessageBase & { type: '@xstate.event'; event: unknown; sourceId: string | undefined })
  | (MessageBase & { type: '@xstate.snapshot'; event: unknown; snapshot: unknown });

type MessageBase = {
  sessionId: string;
  rootId: string | undefined;
  createdAt: string;
  id: null;
  /** Receivers only accept messages that carry a version string. */
  _version: string;
};

/** The @statelyai/inspect release whose message shape these messages follow. */
export const INSPECT_PROTOCOL_VERSION = '0.7.2';

/** How deep and how wide a value is copied into a message: inspection is for eyes, not for replay. */
const MAX_DEPTH = 10;
const MAX_ENTRIES = 200;

interface InspectedRef {
  id: string;
  sessionId: string;
  _parent?: { sessionId: string };
  logic?: { config?: unknown };
  getSnapshot(): unknown;
}

/**
 * The inspector message for one XState inspection event, or undefined for
 * the kinds inspectors do not show (microsteps, actions, transitions).
 * `summarizeContext` replaces each context: contexts hold maps and actor refs.
 */
export function toInspectorMessage(
  event: InspectionEvent,
  summarizeContext: (context: unknown) => unknown,
): InspectorMessage | undefined {
  const ref = event.actorRef as unknown as InspectedRef;
  const base: MessageBase = {
    sessionId: ref.sessionId,
    rootId: event.rootId,
    createdAt: String(Date.now()),
    id: null,
    _version: INSPECT_PROTOCOL_VERSION,
  };
  switch (event.type) {
    case '@xstate.actor': {
      const config = ref.logic?.config;
      const name = ref.id === ref.sessionId && isNamed(config) ? config.id : ref.id;
      return {
        ...base,
        type: '@xstate.actor',
        name,
        parentId: ref._parent?.sessionId,
        definition: definitionOf(config, name),
        snapshot: snapshotOf(ref.getSnapshot(), summarizeContext),
      };
    }
    case '@xstate.event': {
      const source = event.sourceRef as { sessionId?: string } | undefined;
      return { ...base, type: '@xstate.event', event: toPlain(event.event), sourceId: source?.sessionId };
    }
    case '@xstate.snapshot':
      return {
        ...base,
        type: '@xstate.snapshot',
        event: toPlain(event.event),
        snapshot: snapshotOf(event.snapshot, summarizeContext),
      };
    default:
      return undefined;
  }
}

function isNamed(config: unknown): config is { id: string } {
  return typeof config === 'object' && config !== null && typeof (config as { id?: unknown }).id === 'string';
}

// Every broker actor shares one machine config: stringify it once.
const definitions = new WeakMap<object, string>();

function definitionOf(config: unknown, name: string): string {
  if (typeof config !== 'object' || config === null) return JSON.stringify({ id: name });
  let text = definitions.get(config);
  if (text === undefined) {
    text = JSON.stringify(toPlain(config));
    definitions.set(config, text);
  }
  return text;
}

function snapshotOf(snapshot: unknown, summarizeContext: (context: unknown) => unknown): unknown {
  if (typeof snapshot !== 'object' || snapshot === null) return toPlain(snapshot);
  // Machine snapshots drop their machine and methods in toJSON; promise snapshots are plain.
  const json =
    typeof (snapshot as { toJSON?: unknown }).toJSON === 'function'
      ? (snapshot as { toJSON(): object }).toJSON()
      : snapshot;
  const withContext = 'context' in json ? { ...json, context: summarizeContext(json.context) } : json;
  return toPlain({ status: 'active', ...withContext });
}

/**
 * A JSON-safe copy: cycles, functions, bigints, binary data and very deep or
 * wide values become short markers instead of throwing or flooding the socket.
 */
export function toPlain(value: unknown, depth = 0, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
      // Inline actions and guards in a machine config: the visualizer shows the name.
      return { type: value.name || 'anonymous' };
    case 'symbol':
      return value.toString();
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return '[Circular]';
  if (ArrayBuffer.isView(object)) return `[${object.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return Array.isArray(object) ? '[Array]' : '[Object]';
  const inner = [...ancestors, object];
  const copy = (v: unknown) => toPlain(v, depth + 1, inner);
  // toJSON may hand back the object itself: counting it as an ancestor stops that loop.
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function')
    return toPlain((object as { toJSON(): unknown }).toJSON(), depth + 1, inner);
  if (Array.isArray(object)) return listCapped(object, object.length, copy);
  if (object instanceof Set) return listCapped(object, object.size, copy);
  if (object instanceof Map) return recordCapped(object, object.size, copy);
  const keys = Object.keys(object);
  return recordCapped(
    keys.map((k) => [k, (object as Record<string, unknown>)[k]] as const),
    keys.length,
    copy,
  );
}

function listCapped(values: Iterable<unknown>, size: number, copy: (v: unknown) => unknown): unknown[] {
  const list: unknown[] = [];
  for (const v of values) {
    if (list.length === MAX_ENTRIES) break;
    list.push(copy(v));
  }
  if (size > MAX_ENTRIES) list.push(`[${size - MAX_ENTRIES} more]`);
  return list;
}

function recordCapped(
  entries: Iterable<readonly [unknown, unknown]>,
  size: number,
  copy: (v: unknown) => unknown,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  let kept = 0;
  for (const [k, v] of entries) {
    if (kept++ === MAX_ENTRIES) break;
    record[String(k)] = copy(v);
  }
  if (size > MAX_ENTRIES) record['…'] = `${size - MAX_ENTRIES} more`;
  return record;
}
