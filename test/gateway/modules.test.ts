import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/observe/transitions.js';
import type { RouteChange } from '../../src/route/routeTable.js';
import { readBearer, TokenVerifier } from '../../src/gateway/auth.js';
import { parseClientMessage, readFields } from '../../src/gateway/protocol.js';
import { GatewayStream, type StreamEntry, type StreamSink } from '../../src/gateway/stream.js';
import { readSubscriptionChange, Subscription } from '../../src/gateway/subscription.js';

function fakeSources(serving = true) {
  const transitions = new Set<(t: Transition) => void>();
  const routeChanges = new Set<(c: RouteChange) => void>();
  const routes = new Map<string, string>();
  const encoded: string[] = [];
  const state = { serving };
  return {
    state,
    routes,
    encoded,
    transition: (t: Partial<Transition>) =>
      transitions.forEach((l) =>
        l({
          seq: 0,
          at: 1,
          actorId: 'a',
          machine: 'nameServer',
          from: null,
          to: 'ready',
          tags: [],
          event: 'e',
          context: {},
          ...t,
        }),
      ),
    routeChange: (topics: string[]) => routeChanges.forEach((l) => l({ topics, clusters: false, cause: 'register' })),
    sources: {
      onTransition: (l: (t: Transition) => void) => (transitions.add(l), () => void transitions.delete(l)),
      onRouteChange: (l: (c: RouteChange) => void) => (routeChanges.add(l), () => void routeChanges.delete(l)),
      servingRoutes: () => state.serving,
      encodedRoute: (topic: string) => {
        encoded.push(topic);
        return routes.get(topic);
      },
      now: () => 42,
    },
  };
}

function sink(subscription = new Subscription()): StreamSink & { got: StreamEntry[] } {
  const got: StreamEntry[] = [];
  return { got, accepts: (e) => subscription.accepts(e), deliver: (e) => got.push(e) };
}

describe('GatewayStream', () => {
  it('numbers every message once, computes a route once per change, only for watched topics', () => {
    const fake = fakeSources();
    const stream = new GatewayStream(fake.sources, 10);
    const subscription = new Subscription();
    subscription.add({ streams: [], clusters: [], brokers: [], topics: ['T'] });
    const a = sink(subscription);
    const b = sink(subscription);
    for (const s of [a, b]) {
      stream.attach(s);
      stream.watchTopics(s, ['T']);
    }
    fake.routes.set('T', '{"queueDatas":[]}');
    fake.transition({ machine: 'broker', context: { clusterName: 'c', brokerName: 'b', brokerAddr: 'h:1' } });
    fake.routeChange(['T', 'U']);
    expect(fake.encoded).toEqual(['T']);
    expect(a.got.map((e) => e.seq)).toEqual([1, 2]);
    expect(JSON.parse(a.got[1]!.text)).toEqual({
      type: 'route',
      seq: 2,
      at: 42,
      topic: 'T',
      cause: 'register',
      route: { queueDatas: [] },
    });
    expect(b.got).toEqual(a.got);
    expect(a.got[0]!.broker).toEqual({ clusterName: 'c', brokerName: 'b', brokerAddr: 'h:1' });

    stream.detach(a);
    stream.detach(b);
    fake.routeChange(['T']);
    expect(fake.encoded).toEqual(['T']);
    stream.close();
    fake.transition({});
    expect(stream.currentSeq).toBe(2);
  });

  it('holds route changes while routes are not served and releases them once they are', () => {
    const fake = fakeSources(false);
    const stream = new GatewayStream(fake.sources, 10);
    const subscription = new Subscription();
    subscription.add({ streams: [], clusters: [], brokers: [], topics: ['T', 'Quiet'] });
    const s = sink(subscription);
    stream.attach(s);
    stream.watchTopics(s, ['T', 'Quiet']);
    expect(stream.routeSnapshot(['T'])).toBeUndefined();
    fake.routeChange(['T']);
    // A transition into a state without the servingRoutes tag releases nothing.
    fake.transition({ actorId: 'nameServer', to: 'waiting.targetPending', tags: ['live'] });
    expect(s.got.map((e) => e.stream)).toEqual(['lifecycle']);
    // The transition that serves is published first, then what it releases.
    fake.transition({ actorId: 'nameServer', to: 'ready', tags: ['live', 'ready', 'servingRoutes'] });
    fake.state.serving = true;
    expect(
      s.got
        .slice(1)
        .map((e) => [e.stream, e.topic ?? JSON.parse(e.text).to, JSON.parse(e.text).cause, JSON.parse(e.text).route]),
    ).toEqual([
      ['lifecycle', 'ready', undefined, undefined],
      ['routes', 'T', 'register', null],
      ['routes', 'Quiet', 'subscribe', null],
    ]);
    // Nothing is held any more: a later serving transition releases nothing twice.
    fake.transition({ actorId: 'nameServer', to: 'stopping.serving', tags: ['live', 'servingRoutes'] });
    expect(s.got.slice(4).map((e) => e.stream)).toEqual(['lifecycle']);
  });

  it('reports a gap for any missed message when it keeps no replay buffer', () => {
    const fake = fakeSources();
    const stream = new GatewayStream(fake.sources, 0);
    expect(stream.replayAfter(0)).toEqual({ kind: 'replay', messages: [] });
    fake.transition({});
    expect(stream.replayAfter(0)).toEqual({ kind: 'gap', oldestAvailable: 2 });
    expect(stream.replayAfter(1)).toEqual({ kind: 'replay', messages: [] });
  });
});

describe('Subscription', () => {
  it('starts with lifecycle and brokers, narrows brokers by cluster, name or address, and routes by topic', () => {
    const subscription = new Subscription();
    const broker = (clusterName: string, brokerName: string, brokerAddr: string): StreamEntry => ({
      seq: 1,
      stream: 'brokers',
      broker: { clusterName, brokerName, brokerAddr },
      text: '',
    });
    expect(subscription.view()).toEqual({ streams: ['lifecycle', 'brokers'], clusters: [], brokers: [], topics: [] });
    expect(subscription.accepts(broker('c', 'b', 'h:1'))).toBe(true);
    expect(subscription.accepts({ seq: 2, stream: 'routes', topic: 'T', text: '' })).toBe(false);

    subscription.add({ streams: [], clusters: ['c1'], brokers: ['b2', 'h:3'], topics: ['T'] });
    expect(subscription.accepts(broker('c1', 'x', 'h:9'))).toBe(true);
    expect(subscription.accepts(broker('c9', 'b2', 'h:9'))).toBe(true);
    expect(subscription.accepts(broker('c9', 'x', 'h:3'))).toBe(true);
    expect(subscription.accepts(broker('c9', 'x', 'h:9'))).toBe(false);
    expect(subscription.accepts({ seq: 2, stream: 'routes', topic: 'T', text: '' })).toBe(true);
    expect(subscription.growthOf({ streams: [], clusters: ['c1', 'c2', 'c2'], brokers: [], topics: ['T'] })).toBe(1);
    expect(subscription.remove({ streams: ['brokers'], clusters: [], brokers: [], topics: ['T', 'never'] })).toEqual([
      'T',
    ]);
    expect(subscription.accepts(broker('c1', 'x', 'h:9'))).toBe(false);
  });

  it('reads subscribe fields strictly', () => {
    expect(readSubscriptionChange({ topics: ['a'] })).toEqual({
      streams: [],
      clusters: [],
      brokers: [],
      topics: ['a'],
    });
    expect(() => readSubscriptionChange({ topics: ['a', ''] })).toThrow(
      '"topics" must be an array of non-empty strings',
    );
    expect(() => readSubscriptionChange({ streams: ['x'] })).toThrow('unknown stream "x"');
    expect(() => readSubscriptionChange({})).toThrow('name at least one');
  });
});

describe('protocol and auth', () => {
  it('parses client messages and keeps a usable id in errors', () => {
    expect(parseClientMessage('{"op":"ping","id":"a"}')).toEqual({
      ok: true,
      request: { id: 'a', op: 'ping', fields: { op: 'ping', id: 'a' } },
    });
    expect(parseClientMessage('nope')).toMatchObject({ ok: false, error: { code: 'invalid_json' } });
    expect(parseClientMessage('{"id":7}')).toEqual({
      ok: false,
      error: { id: 7, code: 'bad_request', message: 'field "op" is required (string)' },
    });
    expect(parseClientMessage('{"op":"ping","id":{}}')).toEqual({
      ok: false,
      error: { op: 'ping', code: 'bad_request', message: 'field "id" must be a string or a number' },
    });
    expect(readFields({ n: 1, s: 'x' }, { n: 'integer', s: 'string', o: 'boolean?' })).toEqual({ n: 1, s: 'x' });
    expect(() => readFields({ n: 1.5 }, { n: 'integer' })).toThrow('field "n" must be an integer');
  });

  it('verifies tokens and reads bearer headers', () => {
    const tokens = new TokenVerifier('secret');
    expect(tokens.configured).toBe(true);
    expect(tokens.verify('secret')).toBe(true);
    expect(tokens.verify('secret2')).toBe(false);
    expect(tokens.verify('')).toBe(false);
    expect(new TokenVerifier('').configured).toBe(false);
    expect(new TokenVerifier('').verify('')).toBe(false);
    expect(readBearer(undefined)).toEqual({ kind: 'absent' });
    expect(readBearer('Bearer abc')).toEqual({ kind: 'token', token: 'abc' });
    expect(readBearer('bearer  abc ')).toEqual({ kind: 'token', token: 'abc' });
    expect(readBearer('Basic abc')).toEqual({ kind: 'malformed' });
    expect(readBearer('Bearer a b')).toEqual({ kind: 'malformed' });
  });
});
