import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { decodeRegisterBrokerBody, encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { registerBroker, registerBrokerRequest, topicConfig, type TestBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { zlib } from '../support/zlibShim.js';
import { runs } from './support.js';

/**
 * REGISTER_BROKER bodies that cannot be read (malformed JSON, broken or
 * hostile compressed streams, a CRC that does not match, counts that cannot
 * fit) are refused with SYSTEM_ERROR and a remark, and leave the route table
 * exactly as it was: RouteTable.dump() before and after are equal, and no
 * broker actor appears or changes.
 */

const masterA: TestBroker = {
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:20911',
  topics: { TopicA: {}, TopicShared: { readQueueNums: 8, writeQueueNums: 8 }, 'broker-a': {} },
  dataVersion: { timestamp: 1000, counter: 3 },
};
const slaveA: TestBroker = { ...masterA, brokerId: 1, brokerAddr: '127.0.0.1:20921', enableActingMaster: true };
const masterB: TestBroker = {
  clusterName: 'OtherCluster',
  brokerName: 'broker-b',
  brokerAddr: '127.0.0.1:30911',
  topics: { TopicB: {}, TopicShared: {}, 'broker-b': {} },
  dataVersion: { timestamp: 2000, counter: 1 },
  compressed: true,
};

let t: TestServer;
let client: RemotingClient;

beforeAll(async () => {
  t = await startTestServer();
  client = await t.client();
  for (const broker of [masterA, slaveA, masterB])
    expect((await registerBroker(client, broker)).code).toBe(ResponseCode.SUCCESS);
});

afterAll(async () => {
  await t?.stop();
});

/** Who sends the bad body: a broker never seen, or a known one with a new DataVersion (so the body must be read). */
const senders: TestBroker[] = [
  { brokerName: 'broker-new', brokerAddr: '127.0.0.1:40911', topics: {} },
  { ...masterA, dataVersion: { timestamp: 5000, counter: 4 } },
  { ...slaveA, dataVersion: { timestamp: 5000, counter: 4 } },
  { ...masterB, dataVersion: { timestamp: 6000, counter: 2 } },
];

function crc(body: Buffer): number {
  return zlib.crc32(body) & 0x7fffffff;
}

function validBody(compressed: boolean, generation: '4.9' | '5.x' = '4.9'): Buffer {
  return encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: { TopicX: topicConfig('TopicX'), TopicA: topicConfig('TopicA', { perm: 2 }) },
        dataVersion: { timestamp: 7000, counter: 9, stateVersion: 1 },
      },
      filterServerList: ['127.0.0.1:1'],
    },
    { compressed, generation },
  );
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

function part(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([int32(bytes.length), bytes]);
}

const DV = '{"counter":9,"timestamp":7000}';

/** Inflated streams with the right framing idea and the wrong numbers. */
const hostileParts: Array<[string, Buffer]> = [
  ['topic count 2^31-1', Buffer.concat([part(DV), int32(0x7fffffff)])],
  ['negative topic count', Buffer.concat([part(DV), int32(-1), part('[]')])],
  ['topic count past the stream', Buffer.concat([part(DV), int32(3), part('T 1 1 6 SINGLE_TAG'), part('[]')])],
  ['negative part length', Buffer.concat([int32(-5), Buffer.from(DV)])],
  ['part length 2^31-1', Buffer.concat([int32(0x7fffffff), Buffer.from(DV)])],
  ['dataVersion not JSON', Buffer.concat([part('{counter:'), int32(0), part('[]')])],
  ['dataVersion not an object', Buffer.concat([part('[1,2]'), int32(0), part('[]')])],
  ['topic config with four fields', Buffer.concat([part(DV), int32(1), part('T 1 1 6'), part('[]')])],
  [
    'topic config with a non-int queue count',
    Buffer.concat([part(DV), int32(1), part('T x 1 6 SINGLE_TAG'), part('[]')]),
  ],
  [
    'topic config with an out-of-range queue count',
    Buffer.concat([part(DV), int32(1), part('T 99999999999 1 6 SINGLE_TAG'), part('[]')]),
  ],
  [
    'topic config with an unknown filter type',
    Buffer.concat([part(DV), int32(1), part('T 1 1 6 EVERY_TAG'), part('[]')]),
  ],
  [
    'mapping count 2^31-1',
    Buffer.concat([part(DV), int32(1), part('T 1 1 6 SINGLE_TAG'), part('[]'), int32(0x7fffffff)]),
  ],
  [
    'mapping without a topic',
    Buffer.concat([part(DV), int32(1), part('T 1 1 6 SINGLE_TAG'), part('[]'), int32(1), part('{"totalQueues":1}')]),
  ],
  ['truncated before the topic count', part(DV)],
  ['empty stream', Buffer.alloc(0)],
];

/** JSON that parses but has the wrong types where the name server reads fields. */
const wrongTypes: string[] = [
  '[]',
  '"body"',
  '42',
  '{"topicConfigSerializeWrapper":[]}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":[]}}',
  '{"topicConfigSerializeWrapper":{"dataVersion":"v1"}}',
  '{"topicConfigSerializeWrapper":{"dataVersion":{"counter":"x"}}}',
  '{"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"timestamp":{}}}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":"abc"}}}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","perm":1e20}}}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","order":"perhaps"}}}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":1}}}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":[1]}}}',
  '{"filterServerList":{},"topicConfigSerializeWrapper":{}}',
  '{"filterServerList":[{}],"topicConfigSerializeWrapper":{}}',
  '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T"}},"topicQueueMappingInfoMap":{"T":{"totalQueues":"many"}}}}',
];

type BadBody = { what: string; body: Buffer; compressed: boolean; crc32?: number };

// An empty body is no body: Java registers the broker with an empty topic table.
const refusedJson = (text: string) => text !== '' && !decodeRegisterBrokerBody(Buffer.from(text, 'utf8'), false).ok;

const badBody: fc.Arbitrary<BadBody> = fc.oneof(
  fc
    .string({ maxLength: 200 })
    .filter(refusedJson)
    .map((text) => ({
      what: `garbage JSON ${JSON.stringify(text.slice(0, 40))}`,
      body: Buffer.from(text, 'utf8'),
      compressed: false,
    })),
  fc
    .json({ maxDepth: 3 })
    .filter(refusedJson)
    .map((text) => ({
      what: `JSON of the wrong shape ${text.slice(0, 40)}`,
      body: Buffer.from(text, 'utf8'),
      compressed: false,
    })),
  fc
    .constantFrom(...wrongTypes)
    .map((text) => ({ what: `wrong types ${text}`, body: Buffer.from(text, 'utf8'), compressed: false })),
  fc
    .tuple(fc.constantFrom<'4.9' | '5.x'>('4.9', '5.x'), fc.double({ min: 0.01, max: 0.99, noNaN: true }))
    .map(([generation, fraction]) => {
      const body = validBody(false, generation);
      return {
        what: `JSON cut at ${fraction.toFixed(2)}`,
        body: body.subarray(0, Math.max(1, Math.floor(body.length * fraction))),
        compressed: false,
      };
    }),
  fc
    .uint8Array({ minLength: 1, maxLength: 300 })
    .map((bytes) => ({ what: 'random bytes as a compressed body', body: Buffer.from(bytes), compressed: true })),
  fc
    .tuple(fc.constantFrom<'4.9' | '5.x'>('4.9', '5.x'), fc.double({ min: 0.01, max: 0.95, noNaN: true }))
    .map(([generation, fraction]) => {
      const body = validBody(true, generation);
      return {
        what: `compressed stream cut at ${fraction.toFixed(2)}`,
        body: body.subarray(0, Math.max(1, Math.floor(body.length * fraction))),
        compressed: true,
      };
    }),
  fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
    .map(([at, xor]) => {
      const body = Buffer.from(validBody(true));
      // Past the 2-byte zlib header: the deflate data or its adler32 trailer.
      const index = 2 + (at % (body.length - 2));
      body[index] = body[index]! ^ xor;
      return { what: `compressed stream with byte ${index} flipped`, body, compressed: true };
    })
    .filter((bad) => !decodeRegisterBrokerBody(bad.body, true).ok),
  fc.constantFrom(...hostileParts).map(([what, inflated]) => ({ what, body: deflateSync(inflated), compressed: true })),
  fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 0x7fffffff })).map(([compressed, crc32]) => {
    const body = validBody(compressed);
    return { what: 'CRC mismatch', body, compressed, crc32: crc32 === crc(body) ? crc32 - 1 || 1 : crc32 };
  }),
);

async function sendBad(sender: TestBroker, bad: BadBody) {
  const { extFields } = registerBrokerRequest({ ...sender, compressed: bad.compressed });
  extFields.bodyCrc32 = String(bad.crc32 ?? crc(bad.body));
  return client.invoke(RequestCode.REGISTER_BROKER, extFields, bad.body);
}

function brokerState() {
  return t.server
    .brokerSnapshots()
    .map((b) => ({ key: b.brokerKey, state: b.state, generation: b.generation, lastRefresh: b.lastRefresh }));
}

describe('REGISTER_BROKER with bodies that cannot be read', () => {
  it('refuses each with SYSTEM_ERROR and a remark, and leaves the route table exactly as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...senders), badBody, async (sender, bad) => {
        const before = t.server.routes.dump();
        const brokersBefore = brokerState();
        const answer = await sendBad(sender, bad);
        expect(answer.code, `${bad.what} from ${sender.brokerAddr}: ${answer.remark}`).toBe(ResponseCode.SYSTEM_ERROR);
        expect(answer.remark, bad.what).toMatch(
          bad.crc32 !== undefined ? /^crc32 not match$/ : /^Failed to decode RegisterBrokerBody: ./,
        );
        expect(t.server.routes.dump(), bad.what).toEqual(before);
        expect(brokerState(), bad.what).toEqual(brokersBefore);
      }),
      runs(300),
    );
    // The good registrations still stand and route.
    const route = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicShared' });
    expect(route.code).toBe(ResponseCode.SUCCESS);
  });

  /*
   * KNOWN BUG (not fixed here: it lives in src/route/, which is being reworked
   * for performance). A re-registration whose body starts with the broker's
   * current DataVersion takes a fast path that reads only that prefix
   * (peekRegisterBody), so a body that is cut short or broken after it is
   * answered SUCCESS and refreshes the broker's liveness, where Java (which
   * always decodes the whole body) answers SYSTEM_ERROR. The route table is
   * not changed either way. Suggested fix: take the fast path only for a body
   * whose CRC32 (already computed natively for bodyCrc32) equals that of the
   * broker's last fully decoded body. `it.fails` keeps the suite green and
   * turns red once it is fixed: then make it a plain `it`.
   */
  it("refuses a body that repeats the broker's DataVersion but is broken after it", async () => {
    // An unchanged DataVersion lets the server skip reading the topics; the rest must still be a body.
    const full = registerBrokerRequest(masterA).body;
    const cases: Array<[string, Buffer]> = [
      ['cut after the DataVersion', full.subarray(0, full.indexOf('"topicConfigTable"'))],
      [
        'garbage after the DataVersion',
        Buffer.concat([
          full.subarray(0, full.indexOf('"topicConfigTable"')),
          Buffer.from('"topicConfigTable":{"T":nope}}}'),
        ]),
      ],
      ['trailing garbage', Buffer.concat([full, Buffer.from('}}}')])],
    ];
    for (const [what, body] of cases) {
      const before = t.server.routes.dump();
      const brokersBefore = brokerState();
      const answer = await sendBad(masterA, { what, body, compressed: false });
      expect(answer.code, `${what}: ${answer.remark}`).toBe(ResponseCode.SYSTEM_ERROR);
      expect(t.server.routes.dump(), what).toEqual(before);
      expect(brokerState(), what).toEqual(brokersBefore);
    }
  });

  it("still accepts the broker's next good registration", async () => {
    const answer = await registerBroker(client, {
      ...masterA,
      dataVersion: { timestamp: 9000, counter: 10 },
      topics: { ...masterA.topics, TopicLate: {} },
    });
    expect(answer.code).toBe(ResponseCode.SUCCESS);
    expect((await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicLate' })).code).toBe(
      ResponseCode.SUCCESS,
    );
  });
});
