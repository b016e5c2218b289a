import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { brokerKeyOf, type BrokerRegistration, type BrokerRemoval } from '../../machines/broker.js';
import { evaluateWaitTarget, lifecycleStateOf, nameServerMachine, type LifecycleSettings } from '../../machines/nameServer.js';

const settings = (overrides: Partial<LifecycleSettings> = {}): LifecycleSettings => ({
  needWaitForService: true,
  waitSecondsForService: 45,
  waitTimeoutSeconds: 300,
  waitForBrokers: 0,
  waitForBrokerNames: [],
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
  const machine = nameServerMachine.provide({
    actors: { startUp },
    actions: { brokerRemoved: (_, removal) => removed.push(removal) },
  });
  const actor = createActor(machine, { input, clock }).start();
  await Promise.resolve();
  await Promise.resolve();
  return { actor, clock, removed, state: () => lifecycleStateOf(actor.getSnapshot().value as string) };
}

describe('nameServer machine', () => {
  it('goes straight to ready without needWaitForService', async () => {
    const { state } = await startActor(settings({ needWaitForService: false }));
    expect(state()).toBe('ready');
  });

  it('fails when start-up rejects, with the reason', async () => {
    const { actor, state } = await startActor(settings(), fromPromise<void>(async () => { throw new Error('listen EADDRINUSE'); }));
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
    expect(evaluateWaitTarget(actor.getSnapshot().context.settings, actor.getSnapshot().context.liveBrokers).missing)
      .toEqual(['live master for DefaultCluster/a']);
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
    const { actor, removed } = await startActor(settings({ needWaitForService: false }));
    const first = registration('a', 0, 1, 1);
    actor.send({ type: 'BROKER.REGISTERED', registration: first });
    actor.send({ type: 'BROKER.REGISTERED', registration: { ...first, generation: 2, connectionId: 2 } });
    actor.send({ type: 'BROKER.CONNECTION_CLOSED', brokerKey: first.brokerKey, connectionId: 1 });
    expect(removed).toEqual([]);
    expect(actor.getSnapshot().context.brokerActors.has(first.brokerKey)).toBe(true);
    actor.send({ type: 'BROKER.CONNECTION_CLOSED', brokerKey: first.brokerKey, connectionId: 2 });
    expect(removed.map((r) => [r.reason, r.generation])).toEqual([['disconnected', 2]]);
    expect(actor.getSnapshot().context.brokerActors.has(first.brokerKey)).toBe(false);
  });

  it('registers and removes 10,000 brokers leaving no children or timers', async () => {
    const { actor, clock, removed } = await startActor(settings({ needWaitForService: false }));
    for (let i = 0; i < 10_000; i++) {
      const r = { ...registration(`b${i}`), brokerKey: `c|${i}`, brokerAddr: `h:${i}` };
      actor.send({ type: 'BROKER.REGISTERED', registration: r });
    }
    expect(actor.getSnapshot().context.brokerActors.size).toBe(10_000);
    for (let i = 0; i < 5_000; i++) actor.send({ type: 'BROKER.UNREGISTERED', brokerKey: `c|${i}` });
    clock.increment(120_000);
    expect(removed).toHaveLength(10_000);
    expect(actor.getSnapshot().context.brokerActors.size).toBe(0);
    expect(actor.getSnapshot().context.liveBrokers.size).toBe(0);
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });
});
