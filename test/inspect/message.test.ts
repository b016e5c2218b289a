import { describe, expect, it } from 'vitest';
import { assign, createActor, createMachine, type InspectionEvent } from 'xstate';
import { toInspectorMessage, toPlain } from '../../src/inspect/message.js';

describe('toPlain', () => {
  it('turns what JSON cannot hold into short markers', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const value = toPlain({
      cyclic,
      big: 12n,
      bytes: Buffer.alloc(5000),
      fn: function handle() {},
      nan: NaN,
      when: new Date(0),
    });
    expect(value).toEqual({
      cyclic: { name: 'a', self: '[Circular]' },
      big: '12',
      bytes: '[5000 bytes]',
      fn: { type: 'handle' },
      nan: 'NaN',
      when: '1970-01-01T00:00:00.000Z',
    });
    expect(() => JSON.stringify(value)).not.toThrow();
  });

  it('cuts very deep and very wide values', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50; i++) deep = { deep };
    expect(JSON.stringify(toPlain(deep))).toContain('[Object]');
    const wide = toPlain(Array.from({ length: 1000 }, (_, i) => i)) as unknown[];
    expect(wide).toHaveLength(201);
    expect(wide.at(-1)).toBe('[800 more]');
    expect(toPlain(new Map([['k', new Set([1, 2])]]))).toEqual({ k: [1, 2] });
  });

  it('stops at an object whose toJSON returns itself', () => {
    const odd = { toJSON: () => odd };
    expect(toPlain(odd)).toBe('[Circular]');
  });
});

describe('toInspectorMessage', () => {
  it('gives the @statelyai/inspect message shapes for a running actor, context summarized', () => {
    const machine = createMachine({
      id: 'toggle',
      context: { seen: new Map<string, number>() },
      initial: 'off',
      states: {
        off: {
          on: {
            FLIP: { target: 'on', actions: assign({ seen: ({ context }) => new Map(context.seen).set('flip', 1) }) },
          },
        },
        on: {},
      },
    });
    const events: InspectionEvent[] = [];
    const actor = createActor(machine, { inspect: (e) => void events.push(e) }).start();
    actor.send({ type: 'FLIP' });
    actor.stop();
    const messages = events
      .map((e) => toInspectorMessage(e, (context) => ({ summarized: context !== undefined })))
      .filter((m) => m !== undefined);
    for (const message of messages) expect(() => JSON.stringify(message)).not.toThrow();

    const announced = messages.find((m) => m.type === '@xstate.actor')!;
    expect(announced).toMatchObject({
      name: 'toggle',
      sessionId: actor.sessionId,
      _version: expect.any(String),
      id: null,
    });
    expect(announced.type === '@xstate.actor' && JSON.parse(announced.definition!).states.off.on.FLIP.target).toBe(
      'on',
    );
    const flipped = messages.find(
      (m) => m.type === '@xstate.snapshot' && (m.event as { type: string }).type === 'FLIP',
    )!;
    expect(flipped.type === '@xstate.snapshot' && flipped.snapshot).toMatchObject({
      value: 'on',
      status: 'active',
      context: { summarized: true },
    });
  });
});
