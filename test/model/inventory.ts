import type { AnyStateMachine, InspectionEvent } from 'xstate';

/**
 * What a statechart consists of, read from its definition (not from any
 * path): every state node and every transition definition, with keys that stay
 * the same for `machine.provide(...)` copies of it, so transitions taken by the
 * running server's actors can be matched against the definition.
 */
export interface MachineInventory {
  machineId: string;
  /** State node ids, e.g. `nameServer.waiting.holding`; the root included. */
  states: string[];
  /** Transition keys, see transitionKey(). */
  transitions: string[];
}

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

interface TransitionLike {
  source: StateNodeLike;
  eventType: string;
  target?: ReadonlyArray<{ id: string }>;
  guard?: unknown;
}

function guardName(guard: unknown): string {
  if (guard === undefined || guard === null) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && 'type' in guard) return String(guard.type);
  if (typeof guard === 'function') return (guard as { name?: string }).name || 'inline';
  return 'inline';
}

/**
 * `source --event[index] [guard]--> targets`. The index is the transition's
 * place among the source's transitions for that event (or among its `always`
 * transitions), which tells two guarded branches of one event apart.
 */
export function transitionKey(t: TransitionLike): string {
  const list = t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  let index = list.indexOf(t);
  if (index < 0) index = list.findIndex((other) => other.guard === t.guard && sameTargets(other, t));
  const event = t.eventType === '' ? 'always' : t.eventType;
  const guard = guardName(t.guard);
  const targets = t.target && t.target.length > 0 ? t.target.map((n) => n.id).join(',') : '(no target: actions only)';
  return `${t.source.id} --${event}[${index}]${guard ? ` [${guard}]` : ''}--> ${targets}`;
}

function sameTargets(a: TransitionLike, b: TransitionLike): boolean {
  const ids = (t: TransitionLike) => (t.target ?? []).map((n) => n.id).join(',');
  return ids(a) === ids(b);
}

export function inventoryOf(machine: AnyStateMachine): MachineInventory {
  const states: string[] = [];
  const transitions: string[] = [];
  const visit = (node: StateNodeLike) => {
    states.push(node.id);
    for (const list of node.transitions.values()) for (const t of list) transitions.push(transitionKey(t));
    for (const t of node.always ?? []) transitions.push(transitionKey(t));
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return { machineId: machine.id, states, transitions };
}

/**
 * Records, from XState inspection events of running actors, which state nodes
 * were active and which transition definitions were taken. Recording can be
 * paused, so set-up and clean-up around a path (keep-alive heartbeats, the
 * final close) do not count as covered by it.
 */
export class CoverageRecorder {
  readonly states = new Map<string, Set<string>>();
  readonly transitions = new Map<string, Set<string>>();
  private paused = 0;

  readonly inspect = (event: InspectionEvent): void => {
    if (this.paused > 0) return;
    if (event.type !== '@xstate.microstep' && event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot as { machine?: { id: string }; _nodes?: Array<{ id: string }> };
    const machineId = snapshot.machine?.id;
    if (!machineId) return;
    for (const node of snapshot._nodes ?? []) this.add(this.states, machineId, node.id);
    if (event.type === '@xstate.microstep') {
      const taken = (event as unknown as { _transitions?: TransitionLike[] })._transitions ?? [];
      for (const t of taken) this.add(this.transitions, machineId, transitionKey(t));
    }
  };

  /** Runs `body` without recording what it causes. */
  async unrecorded<T>(body: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      return await body();
    } finally {
      this.paused--;
    }
  }

  pause(): void {
    this.paused++;
  }

  resume(): void {
    this.paused--;
  }

  merge(other: CoverageRecorder): void {
    for (const [machine, set] of other.states) for (const s of set) this.add(this.states, machine, s);
    for (const [machine, set] of other.transitions) for (const t of set) this.add(this.transitions, machine, t);
  }

  private add(map: Map<string, Set<string>>, machineId: string, key: string): void {
    let set = map.get(machineId);
    if (!set) map.set(machineId, (set = new Set()));
    set.add(key);
  }
}

export interface MachineCoverage {
  machineId: string;
  states: { total: number; covered: string[]; missing: string[] };
  transitions: { total: number; covered: string[]; missing: string[] };
  /** Taken by the running server but absent from the definition (should never happen). */
  unknownTransitions: string[];
  paths: { generated: number; executed: number; steps: number };
}

export function coverageOf(
  inventory: MachineInventory,
  recorder: CoverageRecorder,
  paths: { generated: number; executed: number; steps: number },
): MachineCoverage {
  const seenStates = recorder.states.get(inventory.machineId) ?? new Set<string>();
  const seenTransitions = recorder.transitions.get(inventory.machineId) ?? new Set<string>();
  return {
    machineId: inventory.machineId,
    states: {
      total: inventory.states.length,
      covered: inventory.states.filter((s) => seenStates.has(s)),
      missing: inventory.states.filter((s) => !seenStates.has(s)),
    },
    transitions: {
      total: inventory.transitions.length,
      covered: inventory.transitions.filter((t) => seenTransitions.has(t)),
      missing: inventory.transitions.filter((t) => !seenTransitions.has(t)),
    },
    unknownTransitions: [...seenTransitions].filter((t) => !inventory.transitions.includes(t)),
    paths,
  };
}

export function formatCoverage(c: MachineCoverage): string {
  const lines = [
    `machine ${c.machineId}: states ${c.states.covered.length}/${c.states.total}, transitions ${c.transitions.covered.length}/${c.transitions.total}; ` +
      `paths generated ${c.paths.generated}, executed ${c.paths.executed} (${c.paths.steps} steps)`,
  ];
  lines.push(`  states reached: ${c.states.covered.join(', ')}`);
  for (const s of c.states.missing) lines.push(`  MISSING state      ${s}`);
  for (const t of c.transitions.missing) lines.push(`  MISSING transition ${t}`);
  for (const t of c.unknownTransitions) lines.push(`  UNKNOWN transition ${t}`);
  for (const t of c.transitions.covered) lines.push(`  covered ${t}`);
  return lines.join('\n');
}
