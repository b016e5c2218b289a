// @ts-check
/**
 * A statechart as boxes and arrows: reads the machine config /machines/<id>
 * serves (the JSON `createMachine` takes: sibling keys or `#id` targets,
 * delays as `after` keys, guards by name) into state nodes and transitions,
 * with the labels the chart shows. Nothing here knows about layout or SVG.
 *
 * xstate's own `machine.toJSON()` shape (target arrays, `xstate.after.*`
 * events) is read too, so an older server still gets a drawing.
 */

/**
 * @typedef {object} StateNodeModel
 * @property {string} id dotted xstate state id, e.g. `nameServer.waiting.holding`
 * @property {string} key
 * @property {string | null} parentId
 * @property {number} depth 0 for the machine
 * @property {'machine' | 'compound' | 'parallel' | 'atomic' | 'final' | 'history'} kind
 * @property {string[]} tags
 * @property {string | undefined} description
 * @property {string | undefined} initialId the initial child's id
 * @property {string[]} childIds
 * @property {string[]} notes lines drawn inside the box: entry/exit actions, invoked actors, targetless transitions
 */

/**
 * @typedef {object} TransitionModel
 * @property {string} id
 * @property {string} sourceId
 * @property {string} targetId
 * @property {'event' | 'after' | 'always' | 'done' | 'error' | 'initial'} kind
 * @property {string} trigger the event type, delay name, or invoked actor for done/error
 * @property {string} label what the edge says, e.g. `STOP`, `after waitTimeout`, `always`
 * @property {string | undefined} guard
 * @property {string[]} actions
 * @property {boolean} reenter
 */

/**
 * @typedef {object} MachineGraph
 * @property {string} machineId
 * @property {Map<string, StateNodeModel>} states
 * @property {TransitionModel[]} transitions
 */

/**
 * @param {any} json a machine config, or `{ config, omitted }` around one
 * @returns {MachineGraph}
 */
export function machineGraph(json) {
  const config = json && typeof json === 'object' && json.config && !json.states ? json.config : json;
  if (!config || typeof config !== 'object' || typeof config.id !== 'string') {
    throw new Error('not a machine config: no id');
  }
  /** @type {Map<string, StateNodeModel>} */
  const states = new Map();
  /** @type {{ node: StateNodeModel, raw: any }[]} */
  const visited = [];

  /**
   * @param {any} raw
   * @param {string} key
   * @param {StateNodeModel | null} parent
   */
  const visit = (raw, key, parent) => {
    const id = parent ? (typeof raw.id === 'string' && raw.id !== '' ? raw.id : `${parent.id}.${key}`) : config.id;
    const childKeys = Object.keys(raw.states ?? {});
    /** @type {StateNodeModel} */
    const node = {
      id,
      key,
      parentId: parent?.id ?? null,
      depth: parent ? parent.depth + 1 : 0,
      kind: kindOf(raw, parent === null, childKeys.length > 0),
      tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
      description: typeof raw.description === 'string' ? raw.description : undefined,
      initialId: undefined,
      childIds: [],
      notes: [],
    };
    states.set(id, node);
    parent?.childIds.push(id);
    visited.push({ node, raw });
    for (const childKey of childKeys) visit(raw.states[childKey], childKey, node);
  };
  visit(config, config.id, null);

  /** @type {TransitionModel[]} */
  const transitions = [];
  for (const { node, raw } of visited) {
    const initialKey = initialKeyOf(raw.initial);
    if (initialKey !== undefined) node.initialId = resolveTarget(states, node, initialKey, true);
    node.notes.push(...actionNames(raw.entry).map((name) => `entry / ${name}`));
    node.notes.push(...actionNames(raw.exit).map((name) => `exit / ${name}`));
    const invokes = asArray(raw.invoke);
    for (const invoke of invokes) node.notes.push(`invoke ${invoke.src}`);
    /** @type {Map<string, string>} invoke id -> src, to name toJSON's `xstate.done.actor.<id>` events */
    const invokeSources = new Map(invokes.map((invoke) => [String(invoke.id ?? invoke.src), String(invoke.src)]));

    /**
     * @param {any} list
     * @param {TransitionModel['kind']} kind
     * @param {string} trigger
     */
    const add = (list, kind, trigger) => {
      for (const transition of asArray(list)) {
        const definition = typeof transition === 'string' ? { target: transition } : transition;
        const guard = guardName(definition.guard);
        const actions = actionNames(definition.actions);
        const targets = asArray(definition.target).map(String);
        const label = labelOf(kind, trigger);
        if (targets.length === 0) {
          // No target: actions only, drawn as a line inside the state, as the Stately visualizer does.
          node.notes.push(`${label}${guard ? ` [${guard}]` : ''}${actions.length ? ` / ${actions.join(', ')}` : ''}`);
          continue;
        }
        for (const target of targets) {
          const targetId = resolveTarget(states, node, target, false);
          if (!targetId) continue;
          transitions.push({
            id: `t${transitions.length}`,
            sourceId: node.id,
            targetId,
            kind,
            trigger,
            label,
            guard,
            actions,
            reenter: definition.reenter === true,
          });
        }
      }
    };

    for (const invoke of invokes) {
      add(invoke.onDone, 'done', String(invoke.src));
      add(invoke.onError, 'error', String(invoke.src));
    }
    for (const [delay, list] of Object.entries(raw.after ?? {})) add(list, 'after', delay);
    add(raw.always, 'always', '');
    if (raw.onDone) add(raw.onDone, 'done', node.key);
    for (const [event, list] of Object.entries(raw.on ?? {})) {
      const internal = internalEvent(event, invokeSources, asArray(list));
      add(list, internal?.kind ?? 'event', internal?.trigger ?? event);
    }
  }
  return { machineId: config.id, states, transitions };
}

/**
 * Ids of the states active in a dotted state value (`waiting.holding`): the
 * state and every parent, machine included.
 * @param {string} machineId
 * @param {string} value
 * @returns {string[]}
 */
export function activeStateIds(machineId, value) {
  const ids = [machineId];
  let id = machineId;
  for (const key of value.split('.')) {
    if (!key) continue;
    id = `${id}.${key}`;
    ids.push(id);
  }
  return ids;
}

/**
 * @param {any} raw
 * @param {boolean} isRoot
 * @param {boolean} hasChildren
 * @returns {StateNodeModel['kind']}
 */
function kindOf(raw, isRoot, hasChildren) {
  if (isRoot) return 'machine';
  if (raw.type === 'final' || raw.type === 'history' || raw.type === 'parallel') return raw.type;
  return hasChildren ? 'compound' : 'atomic';
}

/**
 * @param {any} initial a key, `{ target }`, or toJSON's `{ target: ['#id'] }`
 * @returns {string | undefined}
 */
function initialKeyOf(initial) {
  if (typeof initial === 'string') return initial;
  if (initial && typeof initial === 'object') {
    const target = asArray(initial.target)[0];
    if (typeof target === 'string') return target;
  }
  return undefined;
}

/**
 * xstate resolves `#id` globally, `.child` under the source, and anything else
 * among the source's siblings (for `initial`: among its children).
 * @param {Map<string, StateNodeModel>} states
 * @param {StateNodeModel} source
 * @param {string} target
 * @param {boolean} fromInitial
 * @returns {string | undefined}
 */
function resolveTarget(states, source, target, fromInitial) {
  if (target.startsWith('#')) {
    const ref = target.slice(1);
    if (states.has(ref)) return ref;
    // `#id.child.path`: a custom id followed by a path.
    const parts = ref.split('.');
    for (let cut = parts.length - 1; cut > 0; cut--) {
      const head = parts.slice(0, cut).join('.');
      if (states.has(head)) return descend(states, head, parts.slice(cut));
    }
    return undefined;
  }
  if (target.startsWith('.')) return descend(states, source.id, target.slice(1).split('.'));
  const base = fromInitial ? source.id : source.parentId;
  if (base === null) return undefined;
  return descend(states, base, target.split('.'));
}

/**
 * @param {Map<string, StateNodeModel>} states
 * @param {string} fromId
 * @param {string[]} keys
 */
function descend(states, fromId, keys) {
  let current = states.get(fromId);
  for (const key of keys) {
    const childId = current?.childIds.find((id) => states.get(id)?.key === key);
    current = childId ? states.get(childId) : undefined;
  }
  return current?.id;
}

/**
 * toJSON lists delayed and invoke-done transitions under `on` with xstate's
 * internal event names; they read better as `after <delay>` / `done <actor>`.
 * @param {string} event
 * @param {Map<string, string>} invokeSources
 * @param {any[]} list
 * @returns {{ kind: TransitionModel['kind'], trigger: string } | undefined}
 */
function internalEvent(event, invokeSources, list) {
  const delay = list.find((t) => t && t.delay !== undefined)?.delay;
  if (event.startsWith('xstate.after.')) return { kind: 'after', trigger: String(delay ?? event.split('.')[2]) };
  for (const [prefix, kind] of /** @type {const} */ ([
    ['xstate.done.actor.', 'done'],
    ['xstate.error.actor.', 'error'],
  ])) {
    if (event.startsWith(prefix)) {
      const invokeId = event.slice(prefix.length);
      return { kind, trigger: invokeSources.get(invokeId) ?? invokeId };
    }
  }
  if (event.startsWith('xstate.done.state.'))
    return { kind: 'done', trigger: event.slice('xstate.done.state.'.length).split('.').pop() ?? event };
  return undefined;
}

/**
 * @param {TransitionModel['kind']} kind
 * @param {string} trigger
 */
function labelOf(kind, trigger) {
  switch (kind) {
    case 'after':
      return /^\d+$/.test(trigger) ? `after ${trigger} ms` : `after ${trigger}`;
    case 'always':
      return 'always';
    case 'done':
      return `done: ${trigger}`;
    case 'error':
      return `error: ${trigger}`;
    default:
      return trigger;
  }
}

/** @param {any} guard */
function guardName(guard) {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && typeof guard.type === 'string') return guard.type;
  return undefined;
}

/**
 * Named actions; xstate's own bookkeeping actions (timers) are not the author's.
 * @param {any} actions
 * @returns {string[]}
 */
function actionNames(actions) {
  return asArray(actions)
    .map((action) =>
      typeof action === 'string' ? action : action && typeof action.type === 'string' ? action.type : '',
    )
    .filter((name) => name !== '' && name !== 'xstate.raise' && name !== 'xstate.cancel');
}

/**
 * @param {any} value
 * @returns {any[]}
 */
function asArray(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
