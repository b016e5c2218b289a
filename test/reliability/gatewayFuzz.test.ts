import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCode } from '../../src/remoting/requestCode.js';
import { REMOTING_OPS } from '../../src/gateway/remotingOps.js';
import { registerBroker } from '../support/broker.js';
import { refusedUpgrade, type Message } from '../gateway/support.js';
import { LEVEL } from '../support/logCapture.js';
import { runs, serverState, startObservedServer, type ObservedServer } from './support.js';

/**
 * The gateway under malformed JSON, unknown ops, control ops without the
 * token or with a wrong one, and messages over gatewayMaxMessageBytes: each
 * gets an error (or, for an oversized message, a 1009 close), and nothing in
 * the name server changes: routes, brokers, KV, configuration.
 */

const TOKEN = 'gw-fuzz-token-8c1f';
const MAX_MESSAGE = 4096;
const CONTROL_OPS = Object.entries(REMOTING_OPS)
  .filter(([, op]) => op.kind === 'control')
  .map(([name]) => name);
const READ_OPS = [
  ...Object.entries(REMOTING_OPS)
    .filter(([, op]) => op.kind === 'read')
    .map(([name]) => name),
  'getLifecycle',
  'getBrokers',
  'ping',
];
const KNOWN_OPS = new Set([...CONTROL_OPS, ...READ_OPS, 'subscribe', 'unsubscribe', 'resume', 'auth']);

let t: ObservedServer;

beforeAll(async () => {
  t = await startObservedServer({ gatewayToken: TOKEN, gatewayMaxMessageBytes: MAX_MESSAGE }, { level: 'warn' });
  const tcp = await t.client();
  await registerBroker(tcp, {
    brokerName: 'broker-a',
    brokerAddr: '127.0.0.1:20911',
    topics: { TopicTest: {}, 'broker-a': {} },
  });
  await tcp.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v' });
});

afterAll(async () => {
  await t?.stop();
});

const fieldValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('TopicTest', 'broker-a', 'ns', 'k', 'DefaultCluster', '127.0.0.1:20911', TOKEN.slice(0, -1)),
  fc.constant({ orderMessageEnable: true }),
  fc.constant({ kvConfigPath: '/tmp/x' }),
  fc.constant({ counter: 1, timestamp: 1 }),
  fc.constant({ T: {}, U: { readQueueNums: 1 } }),
);
const fields = fc.dictionary(
  fc.constantFrom(
    'topic',
    'brokerName',
    'brokerAddr',
    'clusterName',
    'brokerId',
    'namespace',
    'key',
    'value',
    'config',
    'cluster',
    'dataVersion',
    'topics',
    'streams',
    'clusters',
    'brokers',
    'lastSeq',
    'token',
    'adminToken',
    'extFields',
  ),
  fieldValue,
  { maxKeys: 6 },
);
const id = fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.string({ minLength: 1, maxLength: 8 }));

type Probe =
  | { kind: 'text'; text: string }
  | { kind: 'control'; message: Record<string, unknown> }
  | { kind: 'read'; message: Record<string, unknown> }
  | { kind: 'unknown'; message: Record<string, unknown> }
  | { kind: 'notObject'; text: string };

const probe: fc.Arbitrary<Probe> = fc.oneof(
  fc.string({ maxLength: 60 }).map((text): Probe => ({ kind: 'text', text })),
  fc
    .constantFrom(
      '{"op":"getRoute",',
      '{"op":',
      '{',
      '}',
      '{"op":"putKv" "id":1}',
      '\u0000',
      '{"op":"deleteTopic","topic":"TopicTest"',
      'undefined',
    )
    .map((text): Probe => ({ kind: 'text', text })),
  fc
    .record({ op: fc.constantFrom(...CONTROL_OPS), id, fields })
    .map(({ op, id, fields }): Probe => ({ kind: 'control', message: { ...fields, op, id } })),
  fc
    .record({ op: fc.constantFrom(...READ_OPS), id, fields })
    .map(({ op, id, fields }): Probe => ({ kind: 'read', message: { ...fields, op, id } })),
  fc
    .record({
      op: fc.string({ minLength: 1, maxLength: 12 }).filter((op) => !KNOWN_OPS.has(op) && op !== '__proto__'),
      id,
      fields,
    })
    .map(({ op, id, fields }): Probe => ({ kind: 'unknown', message: { ...fields, op, id } })),
  fc
    .constantFrom(
      '[]',
      '[{"op":"putKv"}]',
      'null',
      '42',
      '"putKv"',
      'true',
      '{"id":1}',
      '{"op":""}',
      '{"op":7}',
      '{"op":"putKv","id":{}}',
      '{"op":"putKv","id":[1]}',
    )
    .map((text): Probe => ({ kind: 'notObject', text })),
);

function textOf(p: Probe): string {
  return 'text' in p ? p.text : JSON.stringify(p.message);
}

/** The error or response a probe gets, whatever carries (or cannot carry) its id. */
function isAnswerTo(p: Probe) {
  const sentId = 'message' in p ? p.message.id : undefined;
  return (m: Message) => (m.type === 'error' || m.type === 'response') && (sentId === undefined || m.id === sentId);
}

describe('gateway under malformed and unauthorized messages', () => {
  it('answers each message with one error or response, refuses every control op without the token, and changes nothing', async () => {
    const { client } = await t.open();
    let barrier = 0;
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        const before = serverState(t);
        client.send(textOf(p));
        const answer = await client.waitFor(isAnswerTo(p), `the answer to ${textOf(p).slice(0, 80)}`);
        switch (p.kind) {
          case 'control':
            expect(answer, textOf(p)).toMatchObject({ type: 'error', code: 'unauthorized', op: p.message.op });
            expect(answer.message).toContain('gateway token');
            break;
          case 'unknown':
            expect(answer, textOf(p)).toMatchObject({ type: 'error', code: 'unknown_op' });
            break;
          case 'read':
            if (answer.type === 'error') expect(['bad_request', 'remoting_error'], textOf(p)).toContain(answer.code);
            break;
          case 'notObject':
            expect(answer, textOf(p)).toMatchObject({ type: 'error', code: 'bad_request' });
            break;
          case 'text': {
            let parses = true;
            try {
              JSON.parse(p.text);
            } catch {
              parses = false;
            }
            if (!parses) expect(answer, JSON.stringify(p.text)).toMatchObject({ type: 'error', code: 'invalid_json' });
            break;
          }
        }
        expect(answer.code, textOf(p)).not.toBe('internal_error');
        // Nothing else answers the same message: a ping sent after it is the next answer.
        const barrierId = `barrier-${++barrier}`;
        client.send({ op: 'ping', id: barrierId });
        const next = await client.waitFor((m) => m.type === 'error' || m.type === 'response', 'the barrier');
        expect(next.id, `a second answer to ${textOf(p)}`).toBe(barrierId);
        expect(serverState(t), textOf(p)).toBe(before);
      }),
      runs(250),
    );
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('refuses control ops with a wrong token at the upgrade, in auth, and after a wrong auth withdrew a right one', async () => {
    const before = serverState(t);
    for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), `${TOKEN},${TOKEN}`, 'Bearer']) {
      const refused = await refusedUpgrade(t.server.httpPort, { token: wrong });
      expect(refused.status, JSON.stringify(wrong)).toBe(401);
    }
    expect((await refusedUpgrade(t.server.httpPort, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(
      401,
    );

    const { client, hello } = await t.open();
    expect(hello.auth).toEqual({ authorized: false, controlOps: 'enabled' });
    expect(await client.request('auth', { token: `${TOKEN} ` })).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect(await client.request('putKv', { namespace: 'ns', key: 'k', value: 'changed' })).toMatchObject({
      code: 'unauthorized',
    });
    expect(await client.request('auth', { token: TOKEN })).toMatchObject({
      type: 'response',
      result: { authorized: true },
    });
    expect(await client.request('auth', { token: 'guess' })).toMatchObject({ code: 'unauthorized' });
    // The wrong token took back what the right one gave.
    expect(await client.request('deleteTopic', { topic: 'TopicTest' })).toMatchObject({ code: 'unauthorized' });
    expect(await client.request('auth', { token: 42 })).toMatchObject({ code: 'bad_request' });
    expect(serverState(t)).toBe(before);
    await client.close();
  });

  it('closes a client that sends a message over gatewayMaxMessageBytes with 1009, changes nothing, and keeps serving others', async () => {
    const before = serverState(t);
    const oversizedBefore = t.server.gateway.stats().oversizedMessages;
    const hitsBefore = t.server.limits.count('gatewayMaxMessageBytes');
    const { client: bystander } = await t.open();
    const { client } = await t.open({ token: TOKEN });
    // Authorized, so only the size stands between this message and a change.
    client.send({ op: 'putKv', id: 1, namespace: 'ns', key: 'k', value: 'x'.repeat(MAX_MESSAGE) });
    expect((await client.closed).code).toBe(1009);
    expect(t.server.gateway.stats().oversizedMessages).toBe(oversizedBefore + 1);
    expect(t.server.limits.count('gatewayMaxMessageBytes')).toBe(hitsBefore + 1);
    expect(serverState(t)).toBe(before);
    expect((await bystander.request('getKv', { namespace: 'ns', key: 'k' })).result).toEqual({ value: 'v' });
    // One byte under the limit is a message like any other.
    const { client: next } = await t.open({ token: TOKEN });
    const fits = JSON.stringify({ op: 'putKv', id: 1, namespace: 'ns', key: 'big', value: '' });
    const answer = await next.request('putKv', {
      namespace: 'ns',
      key: 'big',
      value: 'y'.repeat(MAX_MESSAGE - fits.length - 1),
    });
    expect(answer.type).toBe('response');
    expect(t.server.kv.get('ns', 'big')?.length).toBe(MAX_MESSAGE - fits.length - 1);
    expect((await next.request('deleteKv', { namespace: 'ns', key: 'big' })).type).toBe('response');
  });

  it('logs no error while being fuzzed', () => {
    expect(t.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
  });
});
