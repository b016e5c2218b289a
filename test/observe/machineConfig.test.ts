import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assign, createActor, createMachine, fromPromise, setup, StateMachine, type AnyStateMachine } from 'xstate';
import { NO_WAIT } from '../../src/conform/plan/lifecyclePlan.js';
import { exportMachineConfig, referencedNames, type MachineConfigJson } from '../../src/observe/machineConfig.js';
import { SAMPLE_REGISTRATION } from '../support/machineSamples.js';
import { exploreSideBySide } from './sideBySide.js';

/** Every machine exported by a module in machines/, so a new chart is covered without touching this file. */
async function machinesOfMachinesDir(): Promise<AnyStateMachine[]> {
  const dir = fileURLToPath(new URL('../../machines/', import.meta.url));
  const found: AnyStateMachine[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) if (value instanceof StateMachine) found.push(value);
  }
  return found;
}

const machines = await machinesOfMachinesDir();

/** What a user does with the downloaded JSON. */
function load(config: MachineConfigJson): AnyStateMachine {
  // Typed: xstate's MachineConfig accepts the exported type as it is.
  return createMachine(JSON.parse(JSON.stringify(config)) as MachineConfigJson);
}

/** A chart with what machines/ does not use today: parallel and history states, ids, numeric delays, multiple targets. */
const kitchenSink = setup({
  guards: { ok: () => true, atLeast: (_, params: { min: number }) => params.min > 0 },
  actions: { log: () => {}, say: (_, params: { word: string }) => void params },
  delays: { short: 100, long: () => 500 },
  actors: { job: fromPromise(async () => 1) },
}).createMachine({
  id: 'sink',
  context: { count: 0 },
  initial: 'idle',
  on: { RESET: { target: '.idle', reenter: true, actions: 'log' } },
  states: {
    idle: {
      on: {
        GO: 'running',
        FORK: 'both',
        DEEP: '#sink.both.left.two',
        JUMP: { target: ['#sink.both.left.two', '#sink.both.right.b'] },
        RESUME: 'both.left.hist',
        ODD: 'custom',
      },
      after: { 2500: 'running' },
    },
    running: {
      description: 'Doing the job',
      tags: ['busy'],
      meta: { owner: 'test' },
      entry: [{ type: 'say', params: { word: 'hi' } }, 'log'],
      exit: 'log',
      invoke: {
        id: 'theJob',
        src: 'job',
        input: { n: 1 },
        onDone: { target: 'done', actions: 'log' },
        onError: 'idle',
      },
      after: { short: { guard: { type: 'atLeast', params: { min: 2 } }, target: 'idle' }, long: 'done' },
      on: { PING: { actions: 'log' }, 'NOISE.*': { actions: 'log' } },
    },
    both: {
      type: 'parallel',
      onDone: 'done',
      on: { BACK: 'idle' },
      states: {
        left: {
          initial: 'one',
          states: {
            one: { on: { NEXT: 'two' } },
            two: { type: 'final' },
            hist: { type: 'history', history: 'deep', target: 'two' },
          },
        },
        right: { initial: 'a', states: { a: { on: { NEXT: 'b' } }, b: { type: 'final' } } },
      },
    },
    custom: { id: 'customId', always: [{ guard: 'ok', target: 'done' }, { target: 'idle' }] },
    done: { type: 'final', output: { result: 'ok' } },
  },
});

describe('exportMachineConfig: the machines in machines/', () => {
  it('finds them', () => {
    expect(machines.map((m) => m.id)).toEqual(expect.arrayContaining(['nameServer', 'broker']));
  });

  describe.each(machines.map((machine) => [machine.id, machine] as const))('%s', (_id, machine) => {
    const { config, omitted } = exportMachineConfig(machine);
    const names = referencedNames(config);

    it('loses no guard, action or actor: every one is named', () => {
      expect(omitted.filter((o) => o.kind === 'logic')).toEqual([]);
    });

    it('refers only to implementations the machine provides, so .provide(machine.implementations) is complete', () => {
      const implemented = machine.implementations as Record<keyof typeof names, Record<string, unknown>>;
      for (const kind of ['actions', 'guards', 'delays', 'actors'] as const) {
        expect(
          names[kind].filter((name) => !(name in implemented[kind])),
          kind,
        ).toEqual([]);
      }
    });

    it('is JSON: a round trip changes nothing, and the loaded machine exports the same config', () => {
      const json = JSON.parse(JSON.stringify(config));
      expect(json).toEqual(config);
      expect(exportMachineConfig(createMachine(json)).config).toEqual(config);
    });

    it('is the same chart: side by side with the machine over every transition', () => {
      const result = exploreSideBySide(machine, load(config), names);
      expect(result.divergence).toBeUndefined();
      expect(result.untaken).toEqual([]);
    });

    it('starts with the machine own implementations and context', () => {
      // Typed as any: the JSON's types are not the machine's, its implementations are.
      const loaded = createMachine({
        ...JSON.parse(JSON.stringify(config)),
        context: machine.config.context,
        output: machine.config.output,
      }).provide(machine.implementations as any);
      const actor = createActor(loaded, { input: sampleInputs[machine.id] });
      const errors: unknown[] = [];
      actor.subscribe({ error: (err) => errors.push(err) });
      actor.start();
      expect(errors).toEqual([]);
      expect(actor.getSnapshot().value).toEqual(
        createActor(machine, { input: sampleInputs[machine.id] }).getSnapshot().value,
      );
      actor.stop();
    });
  });
});

/** Inputs for context factories that read them; a machine without one here starts with no input. */
const sampleInputs: Record<string, unknown> = { nameServer: NO_WAIT, broker: SAMPLE_REGISTRATION };

describe('exportMachineConfig: what it writes', () => {
  const { config, omitted } = exportMachineConfig(kitchenSink);

  it('writes initial as a child key, targets as sibling keys or #ids, delays by name, invokes with their transitions', () => {
    expect(config.initial).toBe('idle');
    expect(config.context).toEqual({ count: 0 });
    expect(config.on).toEqual({ RESET: { target: '#sink.idle', actions: 'log', reenter: true } });
    const idle = config.states!.idle!;
    expect(idle.on).toEqual({
      GO: { target: 'running' },
      FORK: { target: 'both' },
      DEEP: { target: '#sink.both.left.two' },
      JUMP: { target: ['#sink.both.left.two', '#sink.both.right.b'] },
      RESUME: { target: '#sink.both.left.hist' },
      ODD: { target: 'custom' },
    });
    expect(idle.after).toEqual({ 2500: { target: 'running' } });
    expect(config.states!.running).toEqual({
      description: 'Doing the job',
      tags: ['busy'],
      meta: { owner: 'test' },
      entry: [{ type: 'say', params: { word: 'hi' } }, 'log'],
      exit: 'log',
      invoke: {
        src: 'job',
        id: 'theJob',
        input: { n: 1 },
        onDone: { target: 'done', actions: 'log' },
        onError: { target: 'idle' },
      },
      after: { short: { target: 'idle', guard: { type: 'atLeast', params: { min: 2 } } }, long: { target: 'done' } },
      on: { PING: { actions: 'log' }, 'NOISE.*': { actions: 'log' } },
    });
    expect(config.states!.both!.type).toBe('parallel');
    expect(config.states!.both!.onDone).toEqual({ target: 'done' });
    expect(config.states!.both!.states!.left!.states!.hist).toEqual({
      type: 'history',
      history: 'deep',
      target: 'two',
    });
    expect(config.states!.custom).toEqual({
      id: 'customId',
      always: [{ target: 'done', guard: 'ok' }, { target: 'idle' }],
    });
    expect(config.states!.done).toEqual({ type: 'final', output: { result: 'ok' } });
    expect(omitted).toEqual([]);
    expect(referencedNames(config)).toEqual({
      actions: ['log', 'say'],
      guards: ['atLeast', 'ok'],
      delays: ['long', 'short'],
      actors: ['job'],
    });
  });

  it('is the same chart side by side, parallel and history states included', () => {
    const result = exploreSideBySide(kitchenSink, load(config), referencedNames(config));
    expect(result.divergence).toBeUndefined();
    expect(result.untaken).toEqual([]);
  });

  it('lists the inline logic and computed data it cannot write, and where each was', () => {
    const inline = createMachine({
      types: {} as { context: { n: number } },
      id: 'inline',
      context: () => ({ n: 1 }),
      initial: 'a',
      states: {
        a: {
          entry: [assign({ n: 2 }), () => {}, { type: 'named', params: () => ({ n: 3 }) }],
          invoke: { src: fromPromise(async () => 1), input: ({ context }) => context, onDone: 'b' },
          on: { GO: { guard: ({ context }) => context.n > 1, target: 'b' } },
        },
        b: { type: 'final' },
      },
      output: ({ context }) => context.n,
    }).provide({ actions: { named: () => {} } });
    const exported = exportMachineConfig(inline);
    expect(exported.omitted.map(({ at, kind }) => `${kind} ${at}`)).toEqual([
      'data context',
      'data output',
      'logic states.a.entry[0]',
      'logic states.a.entry[1]',
      'logic states.a.entry[2].params',
      'logic states.a.invoke[0].src',
      'data states.a.invoke[0].input',
      'logic states.a.on.GO.guard',
    ]);
    expect(exported.config.states!.a).toEqual({
      entry: ['xstate.assign', 'named'],
      invoke: { src: '0.inline.a', onDone: { target: 'b' } },
      on: { GO: { target: 'b' } },
    });
    // Still a machine: what is left loads and starts once the placeholder actor is provided.
    const actor = createActor(load(exported.config).provide({ actors: { '0.inline.a': fromPromise(async () => 1) } }));
    actor.start();
    expect(actor.getSnapshot().value).toBe('a');
    actor.stop();
  });
});
