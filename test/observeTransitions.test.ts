import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { brokerKeyOf } from '../machines/broker.js';
import { nameServerMachine } from '../machines/nameServer.js';
import { createBrokerRegistry } from '../machines/brokerRegistry.js';
import { TransitionObserver, type Transition } from '../src/observe/transitions.js';
import { summarizeContext } from '../src/observe/contextSummary.js';

describe('TransitionObserver', () => {
  it('reports lifecycle and broker transitions in order, including refreshes, but not action-only events', async () => {
    const clock = new SimulatedClock();
    const observer = new TransitionObserver(() => clock.now(), summarizeContext);
    const seen: Transition[] = [];
    observer.onTransition((t) => seen.push(t));
    const machine = nameServerMachine.provide({
      actors: {
        startUp: fromPromise<void>(async () => {}),
        brokerRegistry: createBrokerRegistry({ clock, inspect: observer.inspect }),
      },
    });
    const actor = createActor(machine, {
      id: 'nameServer',
      clock,
      inspect: observer.inspect,
      input: {
        needWaitForService: true,
        waitSecondsForService: 10,
        waitTimeoutSeconds: 20,
        waitForBrokers: 1,
        waitForBrokerNames: [],
        waitTimeoutAction: 'serve',
      },
    }).start();
    await new Promise((resolve) => setImmediate(resolve));
    const registration = {
      brokerKey: brokerKeyOf('c', 'h:1'),
      clusterName: 'c',
      brokerName: 'b',
      brokerAddr: 'h:1',
      brokerId: 0,
      generation: 1,
      connectionId: 1,
      heartbeatTimeoutMillis: 5_000,
    };
    actor.send({ type: 'BROKER.REGISTERED', registration });
    actor.send({ type: 'BROKER.HEARTBEAT', brokerKey: registration.brokerKey });
    clock.increment(10_000);
    const lines = seen.map((t) => `${t.machine}:${t.from}->${t.to} (${t.event})`);
    expect(lines).toEqual([
      'nameServer:null->starting (xstate.init)',
      'nameServer:starting->waiting.holding (xstate.done.actor.0.nameServer.starting)',
      'broker:null->registered (xstate.init)',
      'broker:registered->registered (HEARTBEAT)',
      'broker:registered->expired (xstate.after.heartbeatTimeout.broker.registered)',
      'nameServer:waiting.holding->waiting.targetPending (xstate.after.waitForService.nameServer.waiting.holding)',
    ]);
    expect(seen.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.map((t) => t.actorId)).toEqual([
      'nameServer',
      'nameServer',
      registration.brokerKey,
      registration.brokerKey,
      registration.brokerKey,
      'nameServer',
    ]);
    expect(seen.map((t) => t.tags)).toEqual([['live'], ['live'], ['live'], ['live'], [], ['live']]);
    expect(seen[2]!.context).toEqual({
      clusterName: 'c',
      brokerName: 'b',
      brokerAddr: 'h:1',
      brokerId: 0,
      generation: 1,
    });
  });
});
