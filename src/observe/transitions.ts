import type { AnyActorRef, InspectionEvent } from 'xstate';

interface MachineSnapshotLike {
  value?: unknown;
  context?: unknown;
  machine?: { id: string };
  status?: string;
  tags?: ReadonlySet<string>;
}

/** One state change of one actor, as logs, metrics and the gateway see it. */
export interface Transition {
  seq: number;
  at: number;
  actorId: string;
  machine: string;
  from: string | null;
  to: string;
  /** Tags of the state reached (e.g. `servingRoutes`), sorted. */
  tags: string[];
  event: string;
  context: Record<string, unknown>;
}

export type TransitionListener = (transition: Transition) => void;

/** Dotted form of a state value: `waiting.holding`, `registered`. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key, child] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (key === undefined) return '';
    const rest = stateName(child);
    return rest ? `${key}.${rest}` : key;
  }
  return String(value);
}

/**
 * Turns XState inspection events into transitions: an actor's first state,
 * then every microstep that took a transition with a target, including a
 * re-entry of the same state (a broker's refresh). Transitions that only run
 * actions (the name server recording a registration) are not state changes.
 * One instance per name server.
 */
export class TransitionObserver {
  private seq = 0;
  private readonly lastState = new Map<string, string>();
  private readonly listeners = new Set<TransitionListener>();

  constructor(
    private readonly now: () => number,
    private readonly summarize: (machine: string, context: unknown) => Record<string, unknown>,
  ) {}

  readonly inspect = (inspectionEvent: InspectionEvent): void => {
    if (inspectionEvent.type === '@xstate.snapshot') {
      const snapshot = inspectionEvent.snapshot as MachineSnapshotLike;
      if (snapshot.value === undefined || !snapshot.machine) return;
      const ref = inspectionEvent.actorRef as AnyActorRef;
      if (inspectionEvent.event.type === 'xstate.init' && !this.lastState.has(ref.sessionId)) {
        this.emit(ref, snapshot, null, inspectionEvent.event.type);
      }
      if (snapshot.status !== 'active') this.lastState.delete(ref.sessionId);
      return;
    }
    if (inspectionEvent.type !== '@xstate.microstep') return;
    const snapshot = inspectionEvent.snapshot as MachineSnapshotLike;
    if (snapshot.value === undefined || !snapshot.machine) return;
    const taken = (inspectionEvent as { _transitions?: Array<{ target?: unknown[] }> })._transitions ?? [];
    if (!taken.some((t) => Array.isArray(t.target) && t.target.length > 0)) return;
    const ref = inspectionEvent.actorRef as AnyActorRef;
    this.emit(ref, snapshot, this.lastState.get(ref.sessionId) ?? null, inspectionEvent.event.type);
  };

  private emit(ref: AnyActorRef, snapshot: MachineSnapshotLike, from: string | null, event: string): void {
    const to = stateName(snapshot.value);
    this.lastState.set(ref.sessionId, to);
    const transition: Transition = {
      seq: ++this.seq,
      at: this.now(),
      actorId: ref.id,
      machine: snapshot.machine!.id,
      from,
      to,
      tags: snapshot.tags && snapshot.tags.size > 0 ? [...snapshot.tags].sort() : [],
      event,
      context: this.summarize(snapshot.machine!.id, snapshot.context),
    };
    for (const listener of this.listeners) listener(transition);
  }

  get currentSeq(): number {
    return this.seq;
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
