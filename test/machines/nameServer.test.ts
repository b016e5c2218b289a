import { describe, expect, it } from 'vitest';
import { assertEvent, createActor, fromPromise, SimulatedClock, type InspectionEvent } from 'xstate';
import { brokerKeyOf, type BrokerRegistration, type BrokerRemoval } from '../../machines/broker.js';
import { createBrokerRegistry, type BrokerActorRef } from '../../machines/brokerRegistry.js';
import {
  evaluateWaitTarget,
  lifecycleStateOf,
  nameServerMachine,
  type LifecycleSettings,
} from '../../machines/nameServer.js';
import { stateName, TransitionObserver, type Transition } from '../../src/observe/transitions.js';
import { summarizeContext } from '../../src/observe/contextSummary.js';

const settings = (overrides: Partial<LifecycleSettings> = {}): LifecycleSettings => ({
  needWaitForService: true,
  waitSecondsForService: 45,
  waitTimeoutSeconds: 300,
  waitForBrokers: 0,
  waitForBrokerNames: [],
  waitTimeoutAction: 'serve',
  ...overrides,
});

function registration(brokerName: string, brokerId = 0, generation = 1, connectionId = 1): BrokerRegistration {
  const brokerAddr = `10.0.0.${brokerName.length}:${10911 + brokerId}-${brokerName}`;
  return {
    brokerKey: brokerKeyOf('DefaultCluster', brokerAddr),
    clusterName: 'DefaultCluster',
    brokerName,
    brokerAddr,
    brokerId,
    generation,
    connectionId,
    heartbeatTimeoutMillis: 120_000,
  };
}

async function startActor(input: LifecycleSettings, startUp = fromPromise<void>(async () => {})) {
  const clock = new SimulatedClock();
  const removed: BrokerRemoval[] = [];
  const brokerActors = new Map<string, BrokerActorRef>();
  const observer = new TransitionObserver(() => clock.now(), summarizeContext);
  const transitions: Transition[] = [];
  observer.onTransition((t) => transitions.push(t));
  const inspect = (event: InspectionEvent) => observer.inspect(event);
  const machine = nameServerMachine.provide({
    actors: { startUp, brokerRegistry: createBrokerRegistry({ clock, actors: brokerActors, inspect }) },
    actions: {
      removeBrokerFromRoutes: ({ event }) => {
        assertEvent(event, 'BROKER.REMOVED');
        removed.push(event.removal);
      },
    },
  });
  const actor = createActor(machine, { id: 'nameServer', input, clock, inspect }).start();
  await Promise.resolve();
  await Promise.resolve();
  return {
    actor,
    clock,
    removed,
    brokerActors,
    transitions,
    state: () => lifecycleStateOf(actor.getSnapshot().value),
    detail: () => stateName(actor.getSnapshot().value),
  };
}

describe('nameServer machine', () => {
  it('goes straight to ready without needWaitForService', async () => {
    const { state } = await startActor(settings({ needWaitForService: false }));
    expect(state()).toBe('ready');
  });

  it('fails when start-up rejects, with the reason', async () => {
    const { actor, state } = await startActor(
      settings(),
      fromPromise<void>(async () => {
        throw new Error('listen EADDRINUSE');
      }),
    );
    expect(state()).toBe('failed');
    expect(actor.getSnapshot().context.reason).toBe('listen EADDRINUSE');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('waits the minimum time, then becomes ready with no target', async () => {
    const { clock, state } = await startActor(settings());
    expect(state()).toBe('waiting');
    clock.increment(44_999);
    expect(state()).toBe('waiting');
    clock.increment(1);
    expect(state()).toBe('ready');
  });

  it('holds for the broker target after the minimum wait and becomes ready as soon as it is met', async () => {
    const { actor, clock, state } = await startActor(settings({ waitForBrokers: 2 }));
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('a') });
    clock.increment(45_000);
    expect(state()).toBe('waiting');
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('bb') });
    expect(state()).toBe('ready');
  });

  it('times out when the target is missing, then reaches ready once it is met', async () => {
    const { actor, clock, state } = await startActor(settings({ waitForBrokerNames: ['DefaultCluster/a'] }));
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('a', 1) });
    clock.increment(300_000);
    expect(state()).toBe('timedOut');
    expect(actor.getSnapshot().matches({ timedOut: 'serving' })).toBe(true);
    expect(
      evaluateWaitTarget(actor.getSnapshot().context.settings, actor.getSnapshot().context.liveBrokers).missing,
    ).toEqual(['live master for DefaultCluster/a']);
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('a', 0) });
    expect(state()).toBe('ready');
  });

  it('keeps ready when brokers go away (ready is sticky)', async () => {
    const { actor, clock, state, removed } = await startActor(settings({ waitForBrokers: 1 }));
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('a') });
    clock.increment(45_000);
    expect(state()).toBe('ready');
    clock.increment(120_000);
    expect(removed.map((r) => r.reason)).toEqual(['expired']);
    expect(actor.getSnapshot().context.liveBrokers.size).toBe(0);
    expect(state()).toBe('ready');
  });

  it('fences a connection close from an older connection', async () => {
    const { actor, removed, brokerActors } = await startActor(settings({ needWaitForService: false }));
    const first = registration('a', 0, 1, 1);
    actor.send({ type: 'BROKER.REGISTERED', registration: first });
    actor.send({ type: 'BROKER.REGISTERED', registration: { ...first, generation: 2, connectionId: 2 } });
    actor.send({ type: 'BROKER.CONNECTION_CLOSED', brokerKey: first.brokerKey, connectionId: 1 });
    expect(removed).toEqual([]);
    expect(brokerActors.has(first.brokerKey)).toBe(true);
    actor.send({ type: 'BROKER.CONNECTION_CLOSED', brokerKey: first.brokerKey, connectionId: 2 });
    expect(removed.map((r) => [r.reason, r.generation])).toEqual([['disconnected', 2]]);
    expect(brokerActors.has(first.brokerKey)).toBe(false);
  });

  it('registers and removes 10,000 brokers leaving no children or timers', async () => {
    const { actor, clock, removed, brokerActors } = await startActor(settings({ needWaitForService: false }));
    for (let i = 0; i < 10_000; i++) {
      const r = { ...registration(`b${i}`), brokerKey: `c|${i}`, brokerAddr: `h:${i}` };
      actor.send({ type: 'BROKER.REGISTERED', registration: r });
    }
    expect(brokerActors.size).toBe(10_000);
    for (let i = 0; i < 5_000; i++) actor.send({ type: 'BROKER.UNREGISTERED', brokerKey: `c|${i}` });
    clock.increment(120_000);
    expect(removed).toHaveLength(10_000);
    expect(brokerActors.size).toBe(0);
    expect(actor.getSnapshot().context.liveBrokers.size).toBe(0);
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });

  it('waitTimeoutAction decides the state after the deadline: serving (ready, degraded) or refusing (not ready)', async () => {
    const serving = await startActor(settings({ waitForBrokers: 1, waitTimeoutAction: 'serve' }));
    serving.clock.increment(300_000);
    expect(serving.detail()).toBe('timedOut.serving');
    expect([...serving.actor.getSnapshot().tags].sort()).toEqual(['degraded', 'live', 'ready', 'servingRoutes']);

    const refusing = await startActor(settings({ waitForBrokers: 1, waitTimeoutAction: 'refuse' }));
    refusing.clock.increment(300_000);
    expect(refusing.detail()).toBe('timedOut.refusing');
    expect([...refusing.actor.getSnapshot().tags]).toEqual(['live']);
    // Both still become ready once the target is met.
    refusing.actor.send({ type: 'BROKER.REGISTERED', registration: registration('a') });
    expect(refusing.detail()).toBe('ready');
    expect([...refusing.actor.getSnapshot().tags].sort()).toEqual(['live', 'ready', 'servingRoutes']);
  });

  it('tags every state: live until final, servingRoutes only where routes are answered', async () => {
    const waiting = await startActor(settings());
    expect(waiting.detail()).toBe('waiting.holding');
    expect([...waiting.actor.getSnapshot().tags]).toEqual(['live']);
    waiting.actor.send({ type: 'STOP', reason: 'test' });
    expect(waiting.detail()).toBe('stopping.refusing');
    expect(waiting.actor.getSnapshot().hasTag('servingRoutes')).toBe(false);

    const ready = await startActor(settings({ needWaitForService: false }));
    ready.actor.send({ type: 'STOP', reason: 'test' });
    // A stopping server answers what still arrives as it did before the stop, but is no longer ready.
    expect(ready.detail()).toBe('stopping.serving');
    expect([...ready.actor.getSnapshot().tags].sort()).toEqual(['live', 'servingRoutes']);
    await Promise.resolve();
    await Promise.resolve();
    expect(ready.detail()).toBe('stopped');
    expect([...ready.actor.getSnapshot().tags]).toEqual([]);
  });

  it('observes the broker registered before the name server transition it completes', async () => {
    const { actor, clock, transitions } = await startActor(settings({ waitForBrokers: 2 }));
    clock.increment(45_000);
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('a') });
    actor.send({ type: 'BROKER.REGISTERED', registration: registration('bb') });
    const order = transitions.map((t) => `${t.actorId}:${t.from ?? '(new)'}->${t.to}`);
    const second = order.indexOf(`${registration('bb').brokerKey}:(new)->registered`);
    const ready = order.indexOf('nameServer:waiting.targetPending->ready');
    expect(second).toBeGreaterThan(-1);
    expect(ready).toBe(second + 1);
    // A re-registration that completes a target (a slave becoming master) is observed first too.
    const names = await startActor(settings({ waitForBrokerNames: ['DefaultCluster/a'] }));
    names.clock.increment(45_000);
    names.actor.send({ type: 'BROKER.REGISTERED', registration: registration('a', 1) });
    names.actor.send({
      type: 'BROKER.REGISTERED',
      registration: { ...registration('a', 1), brokerId: 0, generation: 2 },
    });
    const namesOrder = names.transitions.map((t) => `${t.machine}:${t.to}`);
    expect(namesOrder.slice(-2)).toEqual(['broker:registered', 'nameServer:ready']);
  });
});
