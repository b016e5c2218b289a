import {
  createActor,
  fromCallback,
  SimulatedClock,
  type AnyActorRef,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import type { ReferencedNames } from '../../src/observe/machineConfig.js';
import { errorMessage } from '../../src/util/errorMessage.js';

/**
 * Runs two machines that should be the same chart (a machine and the one
 * loaded from its exported config) side by side, and explores every path
 * through the chart breadth-first until every transition of the first has
 * been taken.
 *
 * Both get the same stub implementations, so only the chart is compared:
 * guards answer from a list the explorer chooses (every sequence of answers
 * the chart can ask for is tried), actions and guards log their name and
 * params, each named delay gets its own duration, invoked actors never finish
 * (their done and error events are sent like any other event). Timers run on
 * a SimulatedClock per machine, advanced together to the first machine's next
 * due timer (or half way to it). Which of two pending timers fires first depends on the durations,
 * so the exploration is repeated for each order of the delays.
 *
 * After each step both must agree on the state value, status, tags, children,
 * pending timers and the guards and actions they ran.
 */

export type Input = { kind: 'start' } | { kind: 'event'; event: EventObject } | { kind: 'clock'; at: number };

export interface Step {
  input: Input;
  /** Answers for the guards evaluated in this step, in order; false after the list ends. */
  answers: boolean[];
}

export interface Observation {
  value: unknown;
  status: string;
  tags: string[];
  children: string[];
  /** Milliseconds until each pending timer fires. */
  timers: number[];
  /** Guards and actions run in this step. */
  log: string[];
  error?: string;
}

export interface Divergence {
  path: string;
  real: Observation;
  exported: Observation;
}

export interface Exploration {
  runs: number;
  states: number;
  divergence?: Divergence;
  /** Transitions of the real machine no explored path took, as `source --event[index]`. */
  untaken: string[];
}

/** A SimulatedClock that can say which timers are pending. */
export class TimerClock extends SimulatedClock {
  private readonly due = new Map<number, number>();

  override setTimeout(fn: (...args: any[]) => void, timeout: number): number {
    const id: number = super.setTimeout(() => {
      this.due.delete(id);
      fn();
    }, timeout);
    this.due.set(id, this.now() + timeout);
    return id;
  }

  override clearTimeout(id: number): void {
    this.due.delete(id);
    super.clearTimeout(id);
  }

  pending(): number[] {
    return [...this.due.values()].map((at) => at - this.now()).sort((a, b) => a - b);
  }

  nextDue(): number | undefined {
    const pending = this.pending();
    return pending.length > 0 ? this.now() + pending[0]! : undefined;
  }
}

/** One machine under stubs, replaying a path from the start. */
class Side {
  readonly clock = new TimerClock();
  readonly actor: AnyActorRef;
  private answers: boolean[] = [];
  private asked = 0;
  private log: string[] = [];
  private error: string | undefined;

  constructor(
    machine: AnyStateMachine,
    names: ReferencedNames,
    delays: Record<string, number>,
    onTransitions?: (taken: AnyTransitionDefinition[]) => void,
  ) {
    const guards = Object.fromEntries(
      names.guards.map((name) => [
        name,
        (_: unknown, params: unknown) => {
          const answer = this.answers[this.asked++] ?? false;
          this.log.push(`guard ${name}${paramsText(params)} -> ${answer}`);
          return answer;
        },
      ]),
    );
    const actions = Object.fromEntries(
      names.actions.map((name) => [
        name,
        (_: unknown, params: unknown) => void this.log.push(`action ${name}${paramsText(params)}`),
      ]),
    );
    const actors = Object.fromEntries(names.actors.map((name) => [name, fromCallback(() => () => {})]));
    const provided = machine.provide({ guards, actions, actors, delays });
    const inspect = onTransitions
      ? (event: InspectionEvent) => {
          if (event.type === '@xstate.microstep' && event.actorRef === this.actor) {
            onTransitions((event as unknown as { _transitions: AnyTransitionDefinition[] })._transitions);
          }
        }
      : undefined;
    this.actor = createActor(provided, { clock: this.clock, inspect });
    this.actor.subscribe({ error: (err) => void (this.error = errorMessage(err)) });
  }

  /** Runs a step and returns what it led to, and how many guards it asked. */
  step({ input, answers }: Step): { observation: Observation; asked: number } {
    this.answers = answers;
    this.asked = 0;
    this.log = [];
    if (input.kind === 'start') this.actor.start();
    else if (input.kind === 'event') this.actor.send(input.event);
    else this.clock.set(input.at);
    const snapshot = this.actor.getSnapshot();
    const observation: Observation = {
      value: snapshot.value,
      status: snapshot.status,
      tags: [...snapshot.tags].sort(),
      children: Object.keys(snapshot.children).sort(),
      timers: this.clock.pending(),
      log: this.log,
      ...(this.error ? { error: this.error } : {}),
    };
    return { observation, asked: this.asked };
  }

  stop(): void {
    this.actor.stop();
  }
}

/**
 * Distinct durations, so a delay exported under the wrong name shows in the
 * timers: one assignment per order of the delays (all orders of up to four,
 * else each rotation).
 */
function delayOrders(names: ReferencedNames): Array<Record<string, number>> {
  const orders =
    names.delays.length <= 4
      ? permutations(names.delays)
      : names.delays.map((_, i) => [...names.delays.slice(i), ...names.delays.slice(0, i)]);
  return orders.map((order) => Object.fromEntries(order.map((name, i) => [name, 1000 * (i + 1)])));
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

function paramsText(params: unknown): string {
  return params === undefined ? '' : ` ${JSON.stringify(params)}`;
}

function allStateNodes(machine: AnyStateMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    nodes.push(node);
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return nodes;
}

function allTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  return allStateNodes(machine).flatMap((node) => [...[...node.transitions.values()].flat(), ...(node.always ?? [])]);
}

function transitionName(t: AnyTransitionDefinition): string {
  const siblings = t.eventType ? (t.source.transitions.get(t.eventType) ?? []) : (t.source.always ?? []);
  return `${t.source.id} --${t.eventType || 'always'}[${siblings.indexOf(t)}]`;
}

/**
 * Every event the chart can take from outside: each descriptor of each state
 * node, with a concrete type for wildcards. Timers fire through the clock and
 * `xstate.done.state` is raised by the chart itself, so neither is sent.
 */
function externalEvents(machine: AnyStateMachine): EventObject[] {
  const types = new Set<string>();
  for (const node of allStateNodes(machine)) for (const descriptor of node.transitions.keys()) types.add(descriptor);
  const events: EventObject[] = [];
  for (const type of [...types].sort()) {
    if (type.startsWith('xstate.after.') || type.startsWith('xstate.done.state.')) continue;
    if (type === 'xstate.route') continue;
    const concrete = type.endsWith('*') ? `${type.slice(0, -1)}any` : type;
    if (type.startsWith('xstate.error.actor.'))
      events.push({ type: concrete, error: new Error('stub failure') } as EventObject);
    else events.push({ type: concrete });
  }
  for (const node of allStateNodes(machine)) {
    if ((node.config as { route?: unknown }).route && node.config.id)
      events.push({ type: 'xstate.route', to: `#${node.config.id}` } as EventObject);
  }
  return events;
}

function describeStep(step: Step): string {
  const input =
    step.input.kind === 'start'
      ? 'start'
      : step.input.kind === 'clock'
        ? `clock@${step.input.at}`
        : step.input.event.type;
  return step.answers.length > 0 ? `${input} (guards ${step.answers.map((a) => (a ? 'T' : 'F')).join('')})` : input;
}

export function exploreSideBySide(
  real: AnyStateMachine,
  exported: AnyStateMachine,
  names: ReferencedNames,
  limits: { maxRuns: number; maxDepth: number } = { maxRuns: 20_000, maxDepth: 25 },
): Exploration {
  const taken = new Set<string>();
  const total: Exploration = { runs: 0, states: 0, untaken: [] };
  for (const delays of delayOrders(names)) {
    const result = exploreWithDelays(real, exported, names, delays, taken, limits);
    total.runs += result.runs;
    total.states = Math.max(total.states, result.states);
    if (result.divergence) return { ...total, divergence: result.divergence };
  }
  total.untaken = [...new Set(allTransitions(real).map(transitionName))].filter((name) => !taken.has(name));
  return total;
}

function exploreWithDelays(
  real: AnyStateMachine,
  exported: AnyStateMachine,
  names: ReferencedNames,
  delays: Record<string, number>,
  taken: Set<string>,
  limits: { maxRuns: number; maxDepth: number },
): { runs: number; states: number; divergence?: Divergence } {
  const events = externalEvents(real);
  const seen = new Set<string>();
  let runs = 0;

  /** Replays a path on fresh actors; compares the last step. */
  const run = (path: Step[]) => {
    runs++;
    const realSide = new Side(real, names, delays, (transitions) => {
      for (const t of transitions) taken.add(transitionName(t));
    });
    const exportedSide = new Side(exported, names, delays);
    try {
      let last: { real: Observation; exported: Observation; asked: number } | undefined;
      for (const step of path) {
        const r = realSide.step(step);
        const e = exportedSide.step(step);
        last = { real: r.observation, exported: e.observation, asked: r.asked };
      }
      return { ...last!, clock: { now: realSide.clock.now(), nextDue: realSide.clock.nextDue() } };
    } finally {
      realSide.stop();
      exportedSide.stop();
    }
  };

  const identity = (o: Observation) => JSON.stringify([o.value, o.status, o.children, o.timers]);
  const queue: Step[][] = [];
  const clockOf = new WeakMap<Step[], { now: number; nextDue: number | undefined }>();

  /** Tries one input after a path with every sequence of guard answers the chart asks for. */
  const branch = (prefix: Step[], input: Input): Divergence | undefined => {
    const pending: boolean[][] = [[]];
    while (pending.length > 0) {
      const answers = pending.pop()!;
      const path = [...prefix, { input, answers }];
      const result = run(path);
      if (JSON.stringify(result.real) !== JSON.stringify(result.exported)) {
        return {
          path: `[delays ${JSON.stringify(delays)}] ${path.map(describeStep).join(' → ')}`,
          real: result.real,
          exported: result.exported,
        };
      }
      for (let j = answers.length; j < result.asked; j++) {
        pending.push([...answers, ...Array<boolean>(j - answers.length).fill(false), true]);
      }
      const key = identity(result.real);
      if (!seen.has(key) && result.real.status === 'active') {
        seen.add(key);
        queue.push(path);
        clockOf.set(path, result.clock);
      }
    }
    return undefined;
  };

  let divergence = branch([], { kind: 'start' });
  while (!divergence && queue.length > 0 && runs < limits.maxRuns) {
    const path = queue.shift()!;
    if (path.length >= limits.maxDepth) continue;
    const inputs: Input[] = events.map((event) => ({ kind: 'event', event }));
    const clock = clockOf.get(path);
    if (clock?.nextDue !== undefined) {
      inputs.push({ kind: 'clock', at: clock.nextDue });
      // Half way to a timer, so re-entering a state (or not) shows in the timers.
      const wait = clock.nextDue - clock.now;
      if (wait % 1000 === 0) inputs.push({ kind: 'clock', at: clock.now + wait / 2 });
    }
    for (const input of inputs) {
      divergence = branch(path, input);
      if (divergence) break;
    }
  }
  return { runs, states: seen.size, divergence };
}
