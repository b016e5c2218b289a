/**
 * A BROKER.REMOVED that carries an older generation than the broker's live
 * registration: the end of a registration the broker has already replaced
 * (it re-registered on a new connection). The name server machine must
 * forget a broker only when the removal names the generation it holds live;
 * otherwise the broker stops counting towards the wait target, and the
 * `isLiveBroker` guard drops its heartbeats, so a healthy broker expires.
 *
 * The name server and its real broker registry run on a simulated clock; the
 * stale removal is sent to the name server as the registry would report it
 * (the conformance model drives the chart the same way).
 */
import { describe, expect, it } from 'vitest';
import { assertEvent, createActor, SimulatedClock } from 'xstate';
import { brokerKeyOf, type BrokerRegistration, type BrokerRemoval } from '../../machines/broker.js';
import { createBrokerRegistry, type BrokerActorRef } from '../../machines/brokerRegistry.js';
import { evaluateWaitTarget, nameServerMachine, type LifecycleSettings } from '../../machines/nameServer.js';
import { stateName } from '../../src/observe/transitions.js';

const HEARTBEAT_TIMEOUT = 120_000;

const settings = (overrides: Partial<LifecycleSettings> = {}): LifecycleSettings => ({
  needWaitForService: false,
  waitSecondsForService: 45,
  waitTimeoutSeconds: 300,
  waitForBrokers: 0,
  waitForBrokerNames: [],
  waitTimeoutAction: 'refuse',
  ...overrides,
});

const brokerAddr = '10.0.0.1:10911';
const brokerKey = brokerKeyOf('DefaultCluster', brokerAddr);

/** broker-a's master, registered over `connectionId` as `generation`. */
function registration(generation: number, connectionId: number): BrokerRegistration {
  return {
    brokerKey,
    clusterName: 'DefaultCluster',
    brokerName: 'broker-a',
    brokerAddr,
    brokerId: 0,
    generation,
    connectionId,
    heartbeatTimeoutMillis: HEARTBEAT_TIMEOUT,
  };
}

/** How the registry reports the end of generation 1 (its connection closed). */
const staleRemoval: BrokerRemoval = {
  brokerKey,
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerAddr,
  brokerId: 0,
  generation: 1,
  reason: 'disconnected',
};

function startNameServer(input: LifecycleSettings) {
  const clock = new SimulatedClock();
  const brokerActors = new Map<string, BrokerActorRef>();
  const routeRemovals: BrokerRemoval[] = [];
  const machine = nameServerMachine.provide({
    actors: { brokerRegistry: createBrokerRegistry({ clock, actors: brokerActors }) },
    actions: {
      removeBrokerFromRoutes: ({ event }) => {
        assertEvent(event, 'BROKER.REMOVED');
        routeRemovals.push(event.removal);
      },
    },
  });
  const actor = createActor(machine, { id: 'nameServer', input, clock }).start();
  const context = () => actor.getSnapshot().context;
  return {
    actor,
    clock,
    brokerActors,
    routeRemovals,
    detail: () => stateName(actor.getSnapshot().value),
    liveGeneration: () => context().liveBrokers.get(brokerKey)?.generation,
    waitTarget: () => evaluateWaitTarget(context().settings, context().liveBrokers),
  };
}

/** Registered as generation 1 on connection 1, then as generation 2 on connection 2. */
function reRegister(ns: ReturnType<typeof startNameServer>): void {
  ns.actor.send({ type: 'BROKER.REGISTERED', registration: registration(1, 1) });
  ns.actor.send({ type: 'BROKER.REGISTERED', registration: registration(2, 2) });
  expect(ns.liveGeneration()).toBe(2);
}

describe('a BROKER.REMOVED of an older generation than the live registration', () => {
  it('leaves the live broker counted, so the wait target it completes still makes the server ready', async () => {
    const ns = startNameServer(settings({ needWaitForService: true, waitForBrokers: 1 }));
    await Promise.resolve();
    expect(ns.detail()).toBe('waiting.holding');
    reRegister(ns);

    ns.actor.send({ type: 'BROKER.REMOVED', removal: staleRemoval });

    expect(ns.liveGeneration()).toBe(2);
    expect(ns.waitTarget()).toEqual({ met: true, liveBrokers: 1, missing: [] });
    ns.clock.increment(45_000);
    expect(ns.detail()).toBe('ready');
  });

  it('keeps forwarding the broker its heartbeats and its unregistration', async () => {
    const ns = startNameServer(settings());
    await Promise.resolve();
    expect(ns.detail()).toBe('ready');
    reRegister(ns);

    ns.actor.send({ type: 'BROKER.REMOVED', removal: staleRemoval });

    // Ten minutes of heartbeats, each well within the timeout: the broker stays.
    for (let minute = 1; minute <= 10; minute++) {
      ns.clock.increment(60_000);
      ns.actor.send({ type: 'BROKER.HEARTBEAT', brokerKey });
      expect(ns.brokerActors.get(brokerKey)?.getSnapshot().value, `after ${minute} min`).toBe('registered');
    }
    expect(ns.liveGeneration()).toBe(2);
    const removalsOfGeneration2 = () => ns.routeRemovals.filter((r) => r.generation === 2).map((r) => r.reason);
    expect(removalsOfGeneration2()).toEqual([]);

    // Its own end still takes it out: the unregistration reaches generation 2.
    ns.actor.send({ type: 'BROKER.UNREGISTERED', brokerKey });
    expect(removalsOfGeneration2()).toEqual(['unregistered']);
    expect(ns.liveGeneration()).toBeUndefined();
    expect(ns.brokerActors.size).toBe(0);
  });

  it('does forget the broker when the removal names the live generation', async () => {
    const ns = startNameServer(settings());
    await Promise.resolve();
    reRegister(ns);
    ns.clock.increment(HEARTBEAT_TIMEOUT);
    expect(ns.routeRemovals.map((r) => [r.reason, r.generation])).toEqual([['expired', 2]]);
    expect(ns.liveGeneration()).toBeUndefined();
  });
});
