import { createServer, type Server } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { ServerClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { NameServer } from '../../src/nameServer.js';
import { summarizeContext } from '../../src/observe/contextSummary.js';
import { TransitionObserver, type Transition } from '../../src/observe/transitions.js';

export type StartFailure = 'none' | 'portInUse' | 'corruptKv';

/**
 * Starts a real name server the way test/support/harness.ts does (same config
 * path, ephemeral ports on 127.0.0.1, a SimulatedClock at a realistic epoch),
 * but without awaiting start-up, so a path can act while the server is still
 * `starting`, and with inspectors attached from the first event: the coverage
 * recorder and an observer of its own that sees the transitions
 * server.transitions sees, including the ones before NameServer.start resolves.
 */
export interface LaunchedServer {
  clock: SimulatedClock & ServerClock;
  dataDir: string;
  kvPath: string;
  /** Settles like NameServer.start: the server once listening, or the start-up error. */
  started: Promise<NameServer>;
  /** The lifecycle actor, known from its first inspection event (before `started` settles). */
  lifecycleActor(): AnyActorRef;
  /** Every transition the server's actors made, as TransitionObserver reports them. */
  observer: TransitionObserver;
  /** Port held by another listener when failure is portInUse. */
  blocker?: Server;
  dispose(): Promise<void>;
}

export async function launchServer(options: {
  settings: Record<string, string | number | boolean | string[]>;
  failure?: StartFailure;
  inspectors?: Array<(event: InspectionEvent) => void>;
  /** Attached to the observer before the server starts, so they see its first transition. */
  onTransition?: Array<(t: Transition) => void>;
}): Promise<LaunchedServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-model-'));
  const kvPath = join(dataDir, 'kvConfig.json');
  let blocker: Server | undefined;
  let listenPort = 0;
  if (options.failure === 'portInUse') {
    const held = createServer();
    blocker = held;
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    listenPort = (held.address() as { port: number }).port;
  }
  if (options.failure === 'corruptKv') await writeFile(kvPath, '{"configTable": {"ns": ');
  const argv = [
    '--data-dir',
    dataDir,
    '--listenPort',
    String(listenPort),
    '--httpPort',
    '0',
    '--bindAddress',
    '127.0.0.1',
  ];
  for (const [key, value] of Object.entries(options.settings))
    argv.push(`--${key}`, Array.isArray(value) ? value.join(',') : String(value));
  const loaded = loadConfig({ argv, env: {}, homeDir: dataDir });
  if (!loaded.ok) throw new Error(`bad model config: ${loaded.errors.join('; ')}`);
  const clock = new SimulatedClock() as SimulatedClock & ServerClock;
  clock.set(Date.UTC(2026, 0, 1));
  const observer = new TransitionObserver(() => clock.now(), summarizeContext);
  for (const listener of options.onTransition ?? []) observer.onTransition(listener);
  let lifecycle: AnyActorRef | undefined;
  const captureLifecycle = (event: InspectionEvent) => {
    if (lifecycle) return;
    const snapshot = (event as { snapshot?: { machine?: { id: string } } }).snapshot;
    if (snapshot?.machine?.id === 'nameServer') lifecycle = event.actorRef as AnyActorRef;
  };
  const started = NameServer.start({
    config: loaded.config,
    logger: silentLogger(),
    clock,
    inspectors: [captureLifecycle, observer.inspect, ...(options.inspectors ?? [])],
  });
  // Callers look at the outcome themselves; do not let a rejection go unhandled meanwhile.
  started.catch(() => undefined);
  return {
    clock,
    dataDir,
    kvPath,
    started,
    observer,
    blocker,
    lifecycleActor() {
      if (!lifecycle) throw new Error('the lifecycle actor has not been inspected yet');
      return lifecycle;
    },
    async dispose() {
      if (blocker) await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects transitions from a TransitionObserver-like source, marking those made during "noise" (keep-alive traffic). */
export class TransitionLog {
  readonly all: Transition[] = [];
  private noiseDepth = 0;
  private readonly waiters: Array<{ match: (t: Transition) => boolean; resolve: (t: Transition) => void }> = [];

  readonly listener = (t: Transition): void => {
    if (this.noiseDepth > 0) return;
    this.all.push(t);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.match(t)) {
        this.waiters.splice(i, 1);
        waiter.resolve(t);
      }
    }
  };

  async asNoise<T>(body: () => Promise<T>): Promise<T> {
    this.noiseDepth++;
    try {
      return await body();
    } finally {
      this.noiseDepth--;
    }
  }

  get length(): number {
    return this.all.length;
  }

  since(mark: number): Transition[] {
    return this.all.slice(mark);
  }

  /** Resolves with the first transition from `mark` on that matches (already logged or still to come). */
  next(mark: number, match: (t: Transition) => boolean): Promise<Transition> {
    const found = this.all.slice(mark).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}
