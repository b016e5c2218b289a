import { describe, expect, it } from 'vitest';
import { createSummaryLines } from '../../src/inspect/summaryLine.js';

describe('summary lines', () => {
  it('names the actor and writes nested and parallel states as dotted paths, and a status other than active', () => {
    const lines = createSummaryLines();
    lines({
      type: '@xstate.actor',
      sessionId: 'x:0',
      name: 'nameServer',
      snapshot: { value: 'starting', status: 'active' },
    });
    expect(
      lines({
        type: '@xstate.snapshot',
        sessionId: 'x:0',
        event: { type: 'STOP' },
        snapshot: { value: { stopping: 'serving' }, status: 'active' },
      }),
    ).toBe('x:0 nameServer: snapshot stopping.serving (after STOP)');
    expect(
      lines({
        type: '@xstate.snapshot',
        sessionId: 'x:9',
        event: { type: 'GO' },
        snapshot: { value: { a: 'one', b: { c: 'two' } }, status: 'done' },
      }),
    ).toBe('x:9: snapshot a.one, b.c.two [done] (after GO)');
    expect(
      lines({ type: '@xstate.event', sessionId: 'x:0', sourceId: 'x:2', event: { type: 'xstate.done.actor.0' } }),
    ).toBe('x:0 nameServer: event xstate.done.actor.0 from x:2');
    expect(lines({ type: 'hello' })).toBeUndefined();
  });
});
