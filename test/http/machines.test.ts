import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createActor,
  createMachine,
  fromCallback,
  fromPromise,
  SimulatedClock,
  type AnyActorRef,
  type AnyStateMachine,
} from 'xstate';
import { brokerMachine } from '../../machines/broker.js';
import { nameServerMachine, type LifecycleSettings } from '../../machines/nameServer.js';
import { exportMachineConfig, referencedNames, type MachineConfigJson } from '../../src/observe/machineConfig.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { SAMPLE_REGISTRATION as registration } from '../support/machineSamples.js';

/**
 * What a user does with `GET /machines/<id>`: load it with createMachine, give
 * it what JSON cannot hold (the context factory and output from the machine,
 * the implementations with `.provide`), and run it. Here it runs next to the
 * machine itself on the same events, with real implementations.
 */

let t: TestServer;
const fetched = new Map<string, MachineConfigJson>();
beforeAll(async () => {
  t = await startTestServer();
  for (const id of ['nameServer', 'broker']) {
    const reply = await t.http(`/machines/${id}`);
    expect(reply.status).toBe(200);
    fetched.set(id, reply.body);
  }
});
afterAll(async () => {
  await t?.stop();
});

/** The downloaded chart with the machine's own context, output and implementations. */
function loadWithImplementations(json: MachineConfigJson, machine: AnyStateMachine): AnyStateMachine {
  // Typed as any: the JSON's types are not the machine's, its implementations are.
  return createMachine({ ...json, context: machine.config.context, output: machine.config.output } as any).provide(
    machine.implementations as any,
  );
}

interface Pair {
  real: AnyActorRef;
  loaded: AnyActorRef;
  clocks: SimulatedClock[];
  errors: unknown[];
}

function startPair(machine: AnyStateMachine, json: MachineConfigJson, input: unknown): Pair {
  const errors: unknown[] = [];
  const clocks = [new SimulatedClock(), new SimulatedClock()];
  const [real, loaded] = [machine, loadWithImplementations(json, machine)].map((m, i) => {
    const actor = createActor(m, { input, clock: clocks[i] });
    actor.subscribe({ error: (err) => errors.push(err) });
    return actor.start();
  });
  return { real: real!, loaded: loaded!, clocks, errors };
}

/** Start-up and shutdown are promises: let them settle. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function view(actor: AnyActorRef) {
  const s = actor.getSnapshot();
  return { value: s.value, status: s.status, tags: [...s.tags].sort(), context: s.context, output: s.output };
}

type Advance = { advance: number };
type DriveStep = { type: string; [key: string]: unknown } | Advance;
const isAdvance = (step: DriveStep): step is Advance => typeof step.advance === 'number';

async function drive(pair: Pair, steps: DriveStep[]): Promise<Array<ReturnType<typeof view>>> {
  await settle();
  const seen = [view(pair.real)];
  expect(view(pair.loaded)).toEqual(seen[0]);
  for (const step of steps) {
    if (isAdvance(step)) for (const clock of pair.clocks) clock.increment(step.advance);
    else for (const actor of [pair.real, pair.loaded]) actor.send(step);
    await settle();
    const real = view(pair.real);
    expect(view(pair.loaded), `after ${isAdvance(step) ? `${step.advance} ms` : step.type}`).toEqual(real);
    seen.push(real);
  }
  expect(pair.errors).toEqual([]);
  return seen;
}

const waitForOneBroker: LifecycleSettings = {
  needWaitForService: true,
  waitSecondsForService: 30,
  waitTimeoutSeconds: 60,
  waitForBrokers: 1,
  waitForBrokerNames: [],
  waitTimeoutAction: 'serve',
};

describe('GET /machines/<id> loads, starts and runs like the machine itself', () => {
  it('nameServer: a broker completes the wait target, then a stop', async () => {
    const pair = startPair(nameServerMachine, fetched.get('nameServer')!, waitForOneBroker);
    const seen = await drive(pair, [
      { advance: 30_000 },
      { type: 'BROKER.REGISTERED', registration },
      { type: 'BROKER.HEARTBEAT', brokerKey: registration.brokerKey },
      { type: 'STOP', reason: 'test' },
    ]);
    expect(seen.some((s) => s.tags.includes('ready'))).toBe(true);
    expect(seen.at(-1)!.status).toBe('done');
  });

  it('nameServer: the wait times out with no broker, then the wait target is met late', async () => {
    const pair = startPair(nameServerMachine, fetched.get('nameServer')!, waitForOneBroker);
    await drive(pair, [
      { advance: 30_000 },
      { advance: 30_000 },
      { type: 'BROKER.REGISTERED', registration },
      { type: 'STOP', reason: 'test' },
    ]);
  });

  it('broker: refreshed, re-registered, a stale close ignored, then expired with the same output', async () => {
    const pair = startPair(brokerMachine, fetched.get('broker')!, registration);
    const seen = await drive(pair, [
      { advance: 60_000 },
      { type: 'HEARTBEAT' },
      { type: 'REGISTER', registration: { ...registration, generation: 2, connectionId: 2 } },
      { type: 'CONNECTION_CLOSED', connectionId: 1 },
      { advance: 120_000 },
    ]);
    expect(seen.at(-1)!.status).toBe('done');
    expect(seen.at(-1)!.output).toMatchObject({ reason: 'expired', generation: 2 });
  });
});

describe('GET /machines/<id> started bare, with nothing provided', () => {
  it('nameServer: stops with an error, as xstate does for an invoked actor it cannot find; stubs for the listed actors are enough to start', async () => {
    const json = fetched.get('nameServer')!;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bare = createActor(createMachine(json as any));
    const errors: unknown[] = [];
    bare.subscribe({ error: (err) => errors.push(err) });
    bare.start();
    expect(bare.getSnapshot().status).toBe('error');
    expect(errors).toHaveLength(1);
    // xstate's development build names what is missing.
    expect(warn.mock.calls.flat().join('\n')).toContain("Actor type 'brokerRegistry' not found");
    warn.mockRestore();

    const list = (await t.http('/machines')).body.machines as Array<{ id: string; provide: { actors: string[] } }>;
    const actors = list.find((m) => m.id === 'nameServer')!.provide.actors;
    const stubbed = createActor(
      createMachine(json as any).provide({
        actors: Object.fromEntries(actors.map((name) => [name, fromCallback(() => {})])),
      }),
    );
    stubbed.start();
    expect(stubbed.getSnapshot().status).toBe('active');
    expect(stubbed.getSnapshot().value).toBe(nameServerMachine.config.initial);
    stubbed.stop();
  });

  it('broker: runs to a final state at once, because a named delay nobody provides fires immediately', () => {
    const bare = createActor(createMachine(fetched.get('broker')! as any)).start();
    expect(bare.getSnapshot().status).toBe('done');
  });

  it('a placeholder start-up that never settles keeps the name server in its first state', () => {
    const stubbed = createActor(
      createMachine(fetched.get('nameServer')! as any).provide({
        actors: {
          brokerRegistry: fromCallback(() => {}),
          startUp: fromPromise(() => new Promise<void>(() => {})),
          shutDown: fromPromise(async () => {}),
        },
      }),
    ).start();
    expect(stubbed.getSnapshot().value).toBe('starting');
    stubbed.stop();
  });
});

describe('GET /machines', () => {
  it('lists each chart with the implementations to provide and what the JSON leaves out', async () => {
    const list = await t.http('/machines');
    expect(list.status).toBe(200);
    for (const entry of list.body.machines as Array<{ id: string; href: string; provide: unknown; omitted: unknown }>) {
      const machine = [nameServerMachine, brokerMachine].find((m) => m.id === entry.id)!;
      const exported = exportMachineConfig(machine);
      expect(entry.href).toBe(`/machines/${entry.id}`);
      expect(entry.provide).toEqual(referencedNames(exported.config));
      expect(entry.omitted).toEqual(exported.omitted);
      expect(fetched.get(entry.id)).toEqual(exported.config);
    }
  });
});

/**
 * The keys the Stately editor reads when it imports `createMachine({...})` as
 * code (statelyai/xstate-tools, packages/machine-extractor: stateNode.ts,
 * transitions.ts, invoke.ts); it skips any other key without a word. A chart
 * that starts using one should say so here, knowing the editor will not show it.
 */
const STATELY_KEYS = {
  stateNode: [
    'id',
    'initial',
    'type',
    'history',
    'entry',
    'exit',
    'invoke',
    'always',
    'onDone',
    'after',
    'on',
    'tags',
    'states',
    'meta',
    'description',
    'context',
    'version',
  ],
  transition: ['target', 'actions', 'guard', 'description', 'reenter'],
  invoke: ['id', 'src', 'onDone', 'onError'],
};

function keysOutsideStately(node: Record<string, any>, at: string): string[] {
  const outside: string[] = [];
  const check = (object: Record<string, unknown>, allowed: string[], where: string) => {
    for (const key of Object.keys(object)) if (!allowed.includes(key)) outside.push(`${where}.${key}`);
  };
  const transitions = (value: unknown, where: string) => {
    for (const t of [value].flat() as Array<Record<string, unknown>>) check(t, STATELY_KEYS.transition, where);
  };
  check(node, STATELY_KEYS.stateNode, at);
  for (const invoke of [node.invoke ?? []].flat()) {
    check(invoke, STATELY_KEYS.invoke, `${at}.invoke`);
    transitions(invoke.onDone ?? [], `${at}.invoke.onDone`);
    transitions(invoke.onError ?? [], `${at}.invoke.onError`);
  }
  for (const group of ['on', 'after'] as const) {
    for (const [key, value] of Object.entries(node[group] ?? {})) transitions(value, `${at}.${group}.${key}`);
  }
  transitions(node.always ?? [], `${at}.always`);
  transitions(node.onDone ?? [], `${at}.onDone`);
  for (const [key, child] of Object.entries(node.states ?? {}))
    outside.push(...keysOutsideStately(child as Record<string, any>, `${at}.states.${key}`));
  return outside;
}

describe('GET /machines/<id> and the Stately editor', () => {
  it('uses only keys the editor imports', () => {
    for (const [id, json] of fetched) expect(keysOutsideStately(json as Record<string, any>, id)).toEqual([]);
  });
});
