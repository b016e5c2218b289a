// @ts-check
/**
 * Which drawn arrow a streamed transition took. The stream says
 * `from`, `to` and the event; the chart has arrows from a state (or one of its
 * parents) to a state (or one of its parents). Among the arrows that connect
 * them, the one whose trigger matches the event wins; an eventless one
 * (`always`) explains a move caused by an event that only changed the
 * guard's data (e.g. `BROKER.LIVE` completing the wait target).
 */

/** @typedef {import('./machineGraph.js').MachineGraph} MachineGraph */
/** @typedef {import('./machineGraph.js').TransitionModel} TransitionModel */

/**
 * @param {MachineGraph} graph
 * @param {{ from: string | null, to: string, event: string }} step
 * @returns {string[]} transition ids; the initial arrow is `initial:<parent id>`
 */
export function matchTransition(graph, step) {
  const machineId = graph.machineId;
  const toId = `${machineId}.${step.to}`;
  if (step.from === null) return initialArrowsInto(graph, toId);
  const fromId = `${machineId}.${step.from}`;
  const fromChain = ancestorsOrSelf(graph, fromId);
  const toChain = ancestorsOrSelf(graph, toId);
  const candidates = graph.transitions.filter((t) => fromChain.includes(t.sourceId) && toChain.includes(t.targetId));
  if (candidates.length === 0) return [];
  const ranked = candidates
    .map((t) => ({ t, rank: rank(t, step.event) }))
    .filter((c) => c.rank > 0)
    .sort((a, b) => b.rank - a.rank);
  const best = ranked[0];
  if (!best) return [];
  const chosen = [best.t.id];
  // Entering a compound state passes its initial arrows too.
  const entered = graph.states.get(best.t.targetId);
  if (entered && entered.id !== toId)
    chosen.push(...initialArrowsInto(graph, toId).filter((id) => id !== `initial:${machineId}`));
  return chosen;
}

/**
 * @param {TransitionModel} t
 * @param {string} event
 * @returns {number} 0 = cannot be it
 */
function rank(t, event) {
  switch (t.kind) {
    case 'event':
      return t.trigger === event || t.trigger === '*' ? 4 : 0;
    case 'after':
      return event.startsWith(`xstate.after.${t.trigger}.`) || event === `xstate.after.${t.trigger}` ? 4 : 0;
    case 'done':
      return event.startsWith('xstate.done.') ? 3 : 0;
    case 'error':
      return event.startsWith('xstate.error.') ? 3 : 0;
    case 'always':
      return 1;
    default:
      return 0;
  }
}

/**
 * The initial arrows followed to reach `stateId`: for each parent whose
 * initial child is on the way down.
 * @param {MachineGraph} graph
 * @param {string} stateId
 */
function initialArrowsInto(graph, stateId) {
  const chain = ancestorsOrSelf(graph, stateId);
  /** @type {string[]} */
  const arrows = [];
  for (const id of chain) {
    const state = graph.states.get(id);
    if (state?.initialId && chain.includes(state.initialId)) arrows.push(`initial:${id}`);
  }
  return arrows;
}

/**
 * @param {MachineGraph} graph
 * @param {string} stateId
 * @returns {string[]} the state and its parents, innermost first
 */
function ancestorsOrSelf(graph, stateId) {
  /** @type {string[]} */
  const chain = [];
  let state = graph.states.get(stateId);
  while (state) {
    chain.push(state.id);
    state = state.parentId ? graph.states.get(state.parentId) : undefined;
  }
  return chain;
}
