import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/**
 * A statechart as the plain JSON machine config `createMachine` takes (and the
 * Stately editor imports as `createMachine(<json>)`), read from a machine's
 * state nodes.
 *
 * xstate's own `machine.toJSON()` is a definition, not a config: `initial`
 * and transition targets are state node objects, delayed transitions are
 * `xstate.after.<delay>.<id>` events, so `createMachine` accepts it but the
 * actor cannot start. Here every reference is by name or by state id:
 * - targets are sibling keys or `#<state id>`, which resolve the same from
 *   wherever the transition sits;
 * - guards, actions, delays (the `after` keys) and invoked actors are the
 *   names the machine's `setup()` declares; `.provide()` supplies them.
 *
 * What cannot be JSON is left out and listed in `omitted`, with where it was:
 * - logic xstate has no name for: an inline guard (its transition is written
 *   unguarded), an anonymous inline action, a params function (the action
 *   keeps its name), inline actor logic (the invoke keeps its transitions,
 *   with its invoke id as `src`). Built-in action creators used inline are
 *   written by xstate's name for them (`xstate.assign`), as `toJSON()` does.
 *   Each of these is lost, which is why the machines in machines/ name all
 *   their logic (test/observe/machineConfig.test.ts fails otherwise);
 * - data computed by a function: the context factory, invoke `input`, `output`.
 *   xstate has no named form for these, so whoever loads the config supplies
 *   them (`createMachine({ ...json, context })`).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A guard or action by name, with static params. */
export type NamedRef = string | { type: string; params: Json };

export interface TransitionJson {
  target?: string | string[];
  guard?: NamedRef;
  actions?: NamedRef | NamedRef[];
  reenter?: true;
  description?: string;
  meta?: JsonObject;
}

export type TransitionsJson = TransitionJson | TransitionJson[];

export interface InvokeJson {
  src: string;
  id?: string;
  systemId?: string;
  input?: Json;
  onDone?: TransitionsJson;
  onError?: TransitionsJson;
  onSnapshot?: TransitionsJson;
}

export interface StateNodeJson {
  id?: string;
  type?: 'parallel' | 'final' | 'history';
  history?: 'shallow' | 'deep';
  /** A history state's default target. */
  target?: string;
  description?: string;
  initial?: string | { target: string; actions: NamedRef | NamedRef[] };
  tags?: string[];
  meta?: JsonObject;
  entry?: NamedRef | NamedRef[];
  exit?: NamedRef | NamedRef[];
  invoke?: InvokeJson | InvokeJson[];
  always?: TransitionsJson;
  /** Keyed by delay name (or milliseconds). */
  after?: Record<string, TransitionsJson>;
  on?: Record<string, TransitionsJson>;
  onDone?: TransitionsJson;
  route?: Omit<TransitionJson, 'target'>;
  output?: Json;
  states?: Record<string, StateNodeJson>;
}

export interface MachineConfigJson extends StateNodeJson {
  id: string;
  version?: string;
  context?: JsonObject;
}

export interface Omission {
  /** Where it was, as a path into the config: `states.stopping.invoke[0].input`. */
  at: string;
  /** `logic` is lost with it; `data` is for the loader to supply (see the module comment). */
  kind: 'logic' | 'data';
  reason: string;
}

export interface ExportedMachine {
  config: MachineConfigJson;
  omitted: Omission[];
}

/** The implementation names a config refers to: what `.provide()` must supply for it to run. */
export interface ReferencedNames {
  actions: string[];
  guards: string[];
  delays: string[];
  actors: string[];
}

/** The machine as a JSON config, and what of it could not be written. */
export function exportMachineConfig(machine: AnyStateMachine): ExportedMachine {
  const omitted: Omission[] = [];
  const context: unknown = machine.config.context;
  if (context !== undefined && !isJsonObject(context)) {
    omitted.push({ at: 'context', kind: 'data', reason: 'the context is computed by a function (from input)' });
  }
  const config = withoutUndefined({
    id: machine.id,
    version: typeof machine.version === 'string' ? machine.version : undefined,
    context: isJsonObject(context) ? context : undefined,
    ...stateNodeConfig(machine.root, '', omitted),
  }) as MachineConfigJson;
  return { config, omitted };
}

export function referencedNames(config: StateNodeJson): ReferencedNames {
  const names = {
    actions: new Set<string>(),
    guards: new Set<string>(),
    delays: new Set<string>(),
    actors: new Set<string>(),
  };
  const refName = (ref: NamedRef) => (typeof ref === 'string' ? ref : ref.type);
  const addActions = (actions: NamedRef | NamedRef[] | undefined) => {
    for (const action of asArray(actions)) names.actions.add(refName(action));
  };
  const addTransitions = (transitions: TransitionsJson | Omit<TransitionJson, 'target'> | undefined) => {
    for (const t of asArray(transitions)) {
      if (t.guard !== undefined) names.guards.add(refName(t.guard));
      addActions(t.actions);
    }
  };
  const visit = (node: StateNodeJson) => {
    addActions(node.entry);
    addActions(node.exit);
    if (typeof node.initial === 'object') addActions(node.initial.actions);
    for (const invoke of asArray(node.invoke)) {
      names.actors.add(invoke.src);
      addTransitions(invoke.onDone);
      addTransitions(invoke.onError);
      addTransitions(invoke.onSnapshot);
    }
    addTransitions(node.always);
    for (const [delay, transitions] of Object.entries(node.after ?? {})) {
      if (Number.isNaN(Number(delay))) names.delays.add(delay);
      addTransitions(transitions);
    }
    for (const transitions of Object.values(node.on ?? {})) addTransitions(transitions);
    addTransitions(node.onDone);
    addTransitions(node.route);
    for (const child of Object.values(node.states ?? {})) visit(child);
  };
  visit(config);
  const sorted = (set: Set<string>) => [...set].sort();
  return {
    actions: sorted(names.actions),
    guards: sorted(names.guards),
    delays: sorted(names.delays),
    actors: sorted(names.actors),
  };
}

function stateNodeConfig(node: AnyStateNode, at: string, omitted: Omission[]): StateNodeJson {
  const raw = node.config as Record<string, any>;
  const out: StateNodeJson = {};
  if (node.parent && typeof raw.id === 'string') out.id = raw.id;
  if (node.type === 'parallel' || node.type === 'final' || node.type === 'history') out.type = node.type;
  if (node.type === 'history') {
    out.history = node.history === 'deep' ? 'deep' : 'shallow';
    // As written: it resolves from the same place in the same tree.
    if (typeof raw.target === 'string') out.target = raw.target;
    else if (raw.target !== undefined)
      omitted.push({
        at: join(at, 'target'),
        kind: 'logic',
        reason: 'a history default that is not one target by name',
      });
  }
  if (typeof node.description === 'string') out.description = node.description;
  if (raw.initial !== undefined) {
    const initial = node.initial;
    const key = initial.target[0]!.key;
    const actions = actionRefs(initial.actions, join(at, 'initial.actions'), omitted);
    out.initial = actions === undefined ? key : { target: key, actions };
  }
  if (node.tags.length > 0) out.tags = [...node.tags];
  const meta = jsonOrOmit(node.meta, join(at, 'meta'), 'data', 'meta that is not JSON', omitted);
  if (meta !== undefined) out.meta = meta as JsonObject;
  // node.entry/exit also hold the timers xstate adds for `after`: read what was written.
  out.entry = actionRefs(asArray(raw.entry), join(at, 'entry'), omitted);
  out.exit = actionRefs(asArray(raw.exit), join(at, 'exit'), omitted);

  const invokes = node.invoke.map((definition, i) => {
    const invokeAt = join(at, `invoke[${i}]`);
    const invokeRaw = asArray(raw.invoke)[i] as Record<string, unknown>;
    let src: string;
    if (typeof invokeRaw.src === 'string') {
      src = invokeRaw.src;
    } else {
      // The invoke's id is the only name it has; keeping the invoke keeps its onDone/onError.
      src = definition.id;
      omitted.push({
        at: join(invokeAt, 'src'),
        kind: 'logic',
        reason: `inline actor logic; exported as src '${src}'`,
      });
    }
    const invoke: InvokeJson = { src };
    if (typeof invokeRaw.id === 'string') invoke.id = invokeRaw.id;
    if (typeof invokeRaw.systemId === 'string') invoke.systemId = invokeRaw.systemId;
    const input = jsonOrOmit(
      invokeRaw.input,
      join(invokeAt, 'input'),
      'data',
      'the input is computed by a function',
      omitted,
    );
    if (input !== undefined) invoke.input = input;
    invoke.onDone = transitions(node, `xstate.done.actor.${definition.id}`, join(invokeAt, 'onDone'), omitted);
    invoke.onError = transitions(node, `xstate.error.actor.${definition.id}`, join(invokeAt, 'onError'), omitted);
    invoke.onSnapshot = transitions(node, `xstate.snapshot.${definition.id}`, join(invokeAt, 'onSnapshot'), omitted);
    return withoutUndefined<InvokeJson>(invoke);
  });
  out.invoke = single(invokes);

  if (node.always) out.always = transitionList(node.always, join(at, 'always'), omitted);
  const after: Record<string, AnyTransitionDefinition[]> = {};
  for (const delayed of node.after) (after[String(delayed.delay)] ??= []).push(delayed);
  if (Object.keys(after).length > 0) {
    out.after = mapValues(after, (list, delay) => transitionList(list, join(at, `after.${delay}`), omitted)!);
  }
  if (raw.on) {
    const on: Record<string, TransitionsJson> = {};
    for (const descriptor of Object.keys(raw.on)) {
      const list = transitions(node, descriptor, join(at, `on.${descriptor}`), omitted);
      if (list !== undefined) on[descriptor] = list;
    }
    out.on = on;
  }
  if (raw.onDone !== undefined)
    out.onDone = transitions(node, `xstate.done.state.${node.id}`, join(at, 'onDone'), omitted);
  if (raw.route) out.route = transitionBody(raw.route, join(at, 'route'), omitted);
  if (node.type === 'final' || !node.parent) {
    const output = jsonOrOmit(node.output, join(at, 'output'), 'data', 'the output is computed by a function', omitted);
    if (output !== undefined) out.output = output;
  }
  const children = Object.values(node.states) as AnyStateNode[];
  if (children.length > 0) {
    out.states = Object.fromEntries(
      children.map((child) => [child.key, stateNodeConfig(child, join(at, `states.${child.key}`), omitted)]),
    );
  }
  return withoutUndefined<StateNodeJson>(out);
}

function transitions(
  node: AnyStateNode,
  descriptor: string,
  at: string,
  omitted: Omission[],
): TransitionsJson | undefined {
  const list = node.transitions.get(descriptor);
  return list && list.length > 0 ? transitionList(list, at, omitted) : undefined;
}

function transitionList(
  list: readonly AnyTransitionDefinition[],
  at: string,
  omitted: Omission[],
): TransitionsJson | undefined {
  const configs = list.map((t, i) => transitionConfig(t, list.length === 1 ? at : `${at}[${i}]`, omitted));
  return configs.length === 1 ? configs[0] : configs;
}

function transitionConfig(t: AnyTransitionDefinition, at: string, omitted: Omission[]): TransitionJson {
  const targets = (t.target ?? []).map((target) => targetRef(t.source, target));
  return withoutUndefined({
    target: targets.length === 0 ? undefined : targets.length === 1 ? targets[0] : targets,
    ...transitionBody(t, at, omitted),
  });
}

/** Everything of a transition but its target (which a route has none of). */
function transitionBody(t: Record<string, any>, at: string, omitted: Omission[]): Omit<TransitionJson, 'target'> {
  const meta = jsonOrOmit(t.meta, join(at, 'meta'), 'data', 'meta that is not JSON', omitted);
  return withoutUndefined({
    guard: t.guard === undefined ? undefined : guardRef(t.guard, join(at, 'guard'), omitted),
    actions: actionRefs(asArray(t.actions), join(at, 'actions'), omitted),
    reenter: t.reenter === true ? true : undefined,
    description: typeof t.description === 'string' ? t.description : undefined,
    meta: meta as JsonObject | undefined,
  });
}

/** A sibling by key (how transitions are usually written), anything else by id. */
function targetRef(source: AnyStateNode, target: AnyStateNode): string {
  return source.parent && target.parent === source.parent ? target.key : `#${target.id}`;
}

function guardRef(guard: unknown, at: string, omitted: Omission[]): NamedRef | undefined {
  if (typeof guard === 'function') {
    // Also the higher-order guards (and/or/not/stateIn): they are functions too.
    omitted.push({
      at,
      kind: 'logic',
      reason: 'inline guard: xstate has no name for it; the transition is exported unguarded',
    });
    return undefined;
  }
  return namedRef(guard, at, omitted);
}

function actionRefs(actions: readonly unknown[], at: string, omitted: Omission[]): NamedRef | NamedRef[] | undefined {
  const refs: NamedRef[] = [];
  actions.forEach((action, i) => {
    const actionAt = actions.length === 1 ? at : `${at}[${i}]`;
    if (typeof action === 'function') {
      const builtIn = 'resolve' in action && typeof (action as { type?: unknown }).type === 'string';
      const name = builtIn ? (action as unknown as { type: string }).type : action.name;
      if (name) {
        refs.push(name);
        omitted.push({
          at: actionAt,
          kind: 'logic',
          reason: `inline action, exported by xstate's name for it ('${name}')`,
        });
      } else {
        omitted.push({ at: actionAt, kind: 'logic', reason: 'anonymous inline action: xstate has no name for it' });
      }
      return;
    }
    const ref = namedRef(action, actionAt, omitted);
    if (ref !== undefined) refs.push(ref);
  });
  return single(refs);
}

/** `'name'` or `{ type, params }` as written; a params function keeps only the name. */
function namedRef(ref: unknown, at: string, omitted: Omission[]): NamedRef | undefined {
  if (typeof ref === 'string') return ref;
  if (!ref || typeof ref !== 'object' || typeof (ref as { type?: unknown }).type !== 'string') {
    omitted.push({ at, kind: 'logic', reason: 'not a reference by name' });
    return undefined;
  }
  const { type, params } = ref as { type: string; params?: unknown };
  if (params === undefined) return type;
  if (isJson(params)) return { type, params };
  omitted.push({
    at: join(at, 'params'),
    kind: 'logic',
    reason: `params of '${type}' are computed by a function; exported as '${type}' without them`,
  });
  return type;
}

function jsonOrOmit(
  value: unknown,
  at: string,
  kind: Omission['kind'],
  reason: string,
  omitted: Omission[],
): Json | undefined {
  if (value === undefined) return undefined;
  if (isJson(value)) return value;
  omitted.push({ at, kind, reason });
  return undefined;
}

function isJson(value: unknown): value is Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  return isJsonObject(value);
}

function isJsonObject(value: unknown): value is JsonObject {
  if (!value || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every(isJson);
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

function asArray<T>(value: T | readonly T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];
}

function single<T>(list: T[]): T | T[] | undefined {
  return list.length === 0 ? undefined : list.length === 1 ? list[0] : list;
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value, key)]));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
