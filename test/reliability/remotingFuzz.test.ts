import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { FRAME_PREFIX_LENGTH } from '../../src/protocol/frameCodec.js';
import {
  isOneway,
  isResponse,
  ONEWAY_FLAG,
  RESPONSE_FLAG,
  SerializeType,
  type RemotingCommand,
} from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { encodeCommand } from '../../src/protocol/frameCodec.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { capturingLogger, LEVEL, type LogLine } from '../support/logCapture.js';
import { jsonHeaderFrame, rawFrame } from '../support/frames.js';
import { RawPeer } from '../support/rawPeer.js';
import { until } from '../support/wait.js';
import { KNOWN_RESPONSE_CODES, runs } from './support.js';

/**
 * Property-based fuzzing of the remoting port, end to end: random and
 * mutated frames on real connections to a real name server. Every frame the
 * decoder accepts gets an answer that is a response with a known code (and a
 * remark when it is not SUCCESS); a framing error closes that connection and
 * only that one; nothing reaches a request handler's error path (an error
 * log line would mean a handler threw); and a well-formed request on a new
 * connection is served right after.
 */

const MAX_FRAME = 64 * 1024;
const SENTINEL = {
  clusterName: 'SentinelCluster',
  brokerName: 'sentinel-broker',
  brokerAddr: '127.0.0.1:59911',
  topics: { SentinelTopic: {}, 'sentinel-broker': {} },
};

let t: TestServer;
let lines: LogLine[];
let sentinelClient: RemotingClient;
let codes: number[];

beforeAll(async () => {
  const captured = capturingLogger('warn');
  lines = captured.lines;
  t = await startTestServer({ maxFrameLength: MAX_FRAME }, { logger: captured.logger });
  codes = t.server.supportedRequestCodes();
  // A broker whose route every case must still find afterwards.
  sentinelClient = await t.client();
  expect((await registerBroker(sentinelClient, SENTINEL)).code).toBe(ResponseCode.SUCCESS);
});

afterAll(async () => {
  await t?.stop();
});

/** Field names the request processors read, so random headers reach past the "field is null" checks. */
const FIELD_NAMES = [
  'namespace',
  'key',
  'value',
  'topic',
  'cluster',
  'clusterName',
  'brokerName',
  'brokerAddr',
  'brokerId',
  'haServerAddr',
  'heartbeatTimeoutMillis',
  'enableActingMaster',
  'compressed',
  'bodyCrc32',
  'zoneName',
  'acceptStandardJsonOnly',
  'topicSysFlag',
];

const fieldValue = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.integer().map(String),
  fc.constantFrom(
    '',
    'true',
    'false',
    'TRUE',
    '-1',
    '0',
    '2147483648',
    '99999999999999999999',
    '1e3',
    ' 7 ',
    'NaN',
    '__proto__',
    'null',
  ),
);
const extFields = fc.option(
  fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), fieldValue, { maxKeys: 8 }),
  { nil: null },
);

/** Bodies shaped like what the processors parse (JSON, properties, compressed) and plain noise. */
const bodyText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T"}}}}',
    '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":"x"}}}}',
    '{"queueDatas":[{"brokerName":"b","readQueueNums":1,"writeQueueNums":1,"perm":6}]}',
    '{"queueDatas":[{"brokerName":1}]}',
    '{"queueDatas":"nope"}',
    '{"counter":"x","timestamp":{}}',
    'orderMessageEnable=maybe',
    'kvConfigPath=/tmp/evil',
    'configBlackList=',
    'unknownKey=1',
    'listenPort=1',
    '\\u12',
  ),
  fc.string({ maxLength: 64 }),
);
const body = fc.option(
  fc.oneof(
    bodyText.map((s) => Buffer.from(s, 'utf8')),
    fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)),
  ),
  { nil: null },
);

interface RequestSpec {
  code: number;
  extFields: Record<string, string> | null;
  body: Buffer | null;
  serializeType: SerializeType;
  flag: number;
  remark: string | null;
}

const requestSpec = (anyCode: fc.Arbitrary<number>): fc.Arbitrary<RequestSpec> =>
  fc.record({
    code: anyCode,
    extFields,
    body,
    serializeType: fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
    flag: fc.constantFrom(0, 0, 0, 0, 0, 0, ONEWAY_FLAG, RESPONSE_FLAG),
    remark: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
  });

const someCode = () => fc.oneof(fc.constantFrom(...codes), fc.integer({ min: -300, max: 2000 }));

/** Header texts that are not JSON, or JSON of the wrong shape: wrong types in extFields among them. */
const badHeaderText = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    'not json',
    'null',
    '[]',
    '"code"',
    '{"code":"105"}',
    '{"code":105.5}',
    '{"code":105,"opaque":"x"}',
    '{"code":105,"flag":{}}',
    '{"code":105,"version":1e99}',
    '{"code":105,"language":{}}',
    '{"code":105,"remark":{}}',
    '{"code":105,"extFields":[1]}',
    '{"code":105,"extFields":"topic"}',
    '{"code":105,"extFields":{"topic":["a"]}}',
    '{"code":105,"extFields":{"topic":{"x":1}}}',
    '{"code":105,"extFields":{"topic":1}}',
    '{"code":105,"extFields":{"topic":null}}',
    '{"code":105,"extFields":{"__proto__":"x","topic":"T"}}',
    '{"code":103,"extFields":{"brokerName":true,"brokerAddr":1,"clusterName":"c","haServerAddr":"h","brokerId":"x"}}',
    '{"code":100,"extFields":{"namespace":"n","key":"k","value":{"nested":true}}}',
    '{"code":2147483648}',
    '{"code":105,"code":106}',
  ),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
);

type FrameMutation =
  | { kind: 'none' }
  | { kind: 'lengthDelta'; delta: number }
  | { kind: 'length'; value: number }
  | { kind: 'headerLength'; value: number }
  | { kind: 'serializeType'; value: number }
  | { kind: 'header'; text: string }
  | { kind: 'truncateHeader' };

const frameMutation: fc.Arbitrary<FrameMutation> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<FrameMutation>({ kind: 'none' }) },
  fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.constantFrom(-1, 1, -4, 4) }),
  fc.record({
    kind: fc.constant('length' as const),
    value: fc.constantFrom(
      -1,
      -2147483648,
      0,
      3,
      4,
      MAX_FRAME - 4,
      MAX_FRAME - 3,
      MAX_FRAME,
      16 * 1024 * 1024,
      2147483647,
    ),
  }),
  fc.record({
    kind: fc.constant('headerLength' as const),
    value: fc.oneof(fc.constantFrom(0, 1, 0xffffff), fc.nat({ max: 0xffffff })),
  }),
  fc.record({ kind: fc.constant('serializeType' as const), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('header' as const), text: badHeaderText }),
  fc.constant<FrameMutation>({ kind: 'truncateHeader' }),
);

function mutate(frame: Buffer, mutation: FrameMutation): Buffer {
  const out = Buffer.from(frame);
  switch (mutation.kind) {
    case 'none':
      return out;
    case 'lengthDelta':
      out.writeInt32BE((out.readInt32BE(0) + mutation.delta) | 0, 0);
      return out;
    case 'length':
      out.writeInt32BE(mutation.value | 0, 0);
      return out;
    case 'headerLength': {
      const type = out.readUInt8(4);
      out.writeUInt32BE(((type << 24) | mutation.value) >>> 0, 4);
      return out;
    }
    case 'serializeType':
      out.writeUInt8(mutation.value, 4);
      return out;
    case 'header':
      return jsonHeaderFrame(mutation.text);
    case 'truncateHeader': {
      // The frame shrinks to its prefix and a few header bytes, lengths adjusted to match: a header cut short.
      const headerLength = out.readUInt32BE(4) & 0xffffff;
      const keep = Math.min(headerLength, 5);
      const cut = out.subarray(0, FRAME_PREFIX_LENGTH + keep);
      cut.writeInt32BE(4 + keep, 0);
      cut.writeUInt32BE(((out.readUInt8(4) << 24) | keep) >>> 0, 4);
      return Buffer.from(cut);
    }
  }
}

function encodeSpec(spec: RequestSpec, opaque: number): Buffer {
  return encodeCommand({
    code: spec.serializeType === SerializeType.ROCKETMQ ? (spec.code << 16) >> 16 : spec.code,
    language: 'JAVA',
    version: 479,
    opaque,
    flag: spec.flag,
    remark: spec.remark,
    extFields: spec.extFields,
    serializeType: spec.serializeType,
    body: spec.body,
  });
}

/** What a request on the wire must get back: one response, a known code, a remark unless SUCCESS. */
function checkAnswer(answer: RemotingCommand, expectedOpaques: Set<number>): void {
  expect(isResponse(answer), `answer has the response flag: ${JSON.stringify({ ...answer, body: undefined })}`).toBe(
    true,
  );
  expect(expectedOpaques.has(answer.opaque), `answer opaque ${answer.opaque} belongs to a request`).toBe(true);
  expect(KNOWN_RESPONSE_CODES.has(answer.code), `response code ${answer.code} is a known one`).toBe(true);
  if (answer.code !== ResponseCode.SUCCESS) {
    expect(
      typeof answer.remark === 'string' && answer.remark.length > 0,
      `response ${answer.code} to a refused request says why`,
    ).toBe(true);
  }
}

function noErrorLogs(): void {
  const errors = lines.filter((line) => line.level >= LEVEL.error);
  expect(errors, 'error-level log lines (a handler threw, or worse)').toEqual([]);
}

async function stillServes(): Promise<void> {
  const client = await RemotingClient.connect({ host: '127.0.0.1', port: t.server.remotingPort });
  try {
    const route = await getRoute(client, 'SentinelTopic');
    expect(route.code).toBe(ResponseCode.SUCCESS);
  } finally {
    await client.close();
  }
}

describe('remoting port under random and mutated frames', () => {
  it('answers every decodable request, closes on framing errors, keeps serving', async () => {
    const connectionsBefore = t.server.remoting.connections();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(requestSpec(someCode()), frameMutation), { minLength: 1, maxLength: 4 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
        async (items, cutAt) => {
          let opaque = 1;
          const frames = items.map(([spec, mutation]) => mutate(encodeSpec(spec, opaque++), mutation));
          let bytes = Buffer.concat(frames);
          if (cutAt !== undefined && bytes.length > 0) bytes = bytes.subarray(0, cutAt % bytes.length);

          // The decoder's verdict on these bytes, as one chunk; the server's chunks may differ, its verdict may not.
          const oracle = new FrameDecoder(MAX_FRAME).push(bytes);
          const requests = oracle.frames.filter((frame) => !isResponse(frame) && !isOneway(frame));
          const expectedOpaques = new Set(requests.map((frame) => frame.opaque));

          const peer = await RawPeer.open(t.server.remotingPort);
          peer.write(bytes);
          if (oracle.error !== undefined) {
            await peer.waitForClose();
            expect(peer.closedByServer, `closed by the server: ${oracle.error}`).toBe(true);
            // Answers to frames before the bad one may be cut off by the close; never more, never others.
            expect(peer.frames.length).toBeLessThanOrEqual(requests.length);
          } else {
            await peer.waitForFrames(requests.length);
            expect(peer.frames.length).toBe(requests.length);
            expect(peer.isClosed, 'a connection without a framing error stays open').toBe(false);
            peer.end();
            await peer.waitForClose();
          }
          for (const answer of peer.frames) checkAnswer(answer, expectedOpaques);
          noErrorLogs();
          await stillServes();
        },
      ),
      runs(150),
    );
    // Nothing left behind: every fuzz connection is gone, no partial frame is held, no request is waiting.
    await until(
      () => t.server.remoting.connections() === connectionsBefore,
      'the fuzz connections closed on the server',
    );
    expect(t.server.remoting.bufferedBytes()).toBe(0);
    expect(t.server.inFlight.total()).toBe(0);
  });

  it('answers random headers and bodies for every request code the server registers', async () => {
    const client = await t.client();
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestSpec(fc.constantFrom(...codes)), { minLength: 1, maxLength: 6 }),
        async (specs) => {
          // Pipelined, as clients do: all requests out before any answer comes back.
          const answers = await Promise.all(
            specs.map((spec) =>
              client.request({ code: spec.code, extFields: spec.extFields, body: spec.body, remark: spec.remark }),
            ),
          );
          answers.forEach((answer, i) => {
            expect(KNOWN_RESPONSE_CODES.has(answer.code), `code ${specs[i]!.code} answered with a known code`).toBe(
              true,
            );
            if (answer.code !== ResponseCode.SUCCESS)
              expect(answer.remark, `code ${specs[i]!.code} answered ${answer.code} with a remark`).toBeTruthy();
          });
          noErrorLogs();
        },
      ),
      runs(200),
    );
    expect(client.closed).toBe(false);
    await stillServes();
    // Every code, binary headers too.
    const binary = await RemotingClient.connect({
      host: '127.0.0.1',
      port: t.server.remotingPort,
      serializeType: SerializeType.ROCKETMQ,
    });
    try {
      for (const code of codes) {
        const answer = await binary.invoke(
          code,
          { topic: '\u0000', namespace: '\u{1F600}' },
          Buffer.from([0xff, 0xfe, 0x00]),
        );
        expect(KNOWN_RESPONSE_CODES.has(answer.code)).toBe(true);
        if (answer.code !== ResponseCode.SUCCESS) expect(answer.remark).toBeTruthy();
      }
    } finally {
      await binary.close();
    }
    noErrorLogs();
  });

  it('closes the connection at each kind of framing error, with one warning naming it, and serves the next connection', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['negative length', rawFrame(-1, 0), /frame length -1/],
      ['length smaller than the header length word', rawFrame(3, 0, Buffer.alloc(3)), /frame length 3/],
      ['length one over the cap', rawFrame(MAX_FRAME - 3, 0), /exceeds the maximum frame length/],
      ['header length past the frame', rawFrame(10, 7, Buffer.alloc(6)), /header length 7 exceeds/],
      ['invalid JSON header', jsonHeaderFrame('{"code":'), /undecodable JSON header/],
      [
        'extFields value of the wrong type',
        jsonHeaderFrame('{"code":105,"extFields":{"topic":["a"]}}'),
        /extFields.topic is not a scalar/,
      ],
      [
        'truncated binary header',
        rawFrame(4 + 5, (SerializeType.ROCKETMQ << 24) | 5, Buffer.alloc(5)),
        /binary header of 5 bytes/,
      ],
      ['binary ext length past the header', binaryHeaderWithExtLength(1000), /ext length 1000/],
      ['unknown serialize type', rawFrame(4 + 2, (7 << 24) | 2, Buffer.from('{}')), /unknown header serialize type 7/],
    ];
    for (const [what, bytes, reason] of cases) {
      const before = lines.length;
      const tooLongBefore = t.server.limits.count('maxFrameLength');
      const peer = await RawPeer.open(t.server.remotingPort);
      peer.write(bytes);
      await peer.waitForClose();
      expect(peer.closedByServer, what).toBe(true);
      expect(peer.frames, what).toEqual([]);
      if (what === 'length one over the cap') {
        // A configured limit: counted every time, logged once per peer (the fuzzing above already hit it).
        expect(t.server.limits.count('maxFrameLength')).toBe(tooLongBefore + 1);
      } else {
        const warnings = lines
          .slice(before)
          .filter((line) => line.level === LEVEL.warn && /protocol error/.test(line.msg));
        expect(warnings.length, `${what}: one warning`).toBe(1);
        expect(`${(warnings[0]!.reason ?? warnings[0]!.msg) as string}`, what).toMatch(reason);
      }
      await stillServes();
    }
    const { text } = await t.http('/metrics');
    expect(Number(/^xnamesrv_remoting_protocol_errors_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(
      cases.length,
    );
    expect(
      lines.filter((line) => line.limit === 'maxFrameLength').length,
      'maxFrameLength logged once for this peer',
    ).toBe(1);
    noErrorLogs();
  });

  it('refuses a frame over the cap from its first 8 bytes, without waiting for (or buffering) the rest', async () => {
    const peer = await RawPeer.open(t.server.remotingPort);
    // Claims 16 MiB and sends only the prefix: the server must not wait for the claimed bytes.
    peer.write(rawFrame(16 * 1024 * 1024, 100));
    await peer.waitForClose();
    expect(peer.closedByServer).toBe(true);
    await stillServes();
  });
});

function binaryHeaderWithExtLength(extLength: number): Buffer {
  const header = Buffer.alloc(21);
  header.writeInt16BE(105, 0);
  header.writeInt32BE(0, 13); // remark length
  header.writeInt32BE(extLength, 17);
  return rawFrame(4 + header.length, (SerializeType.ROCKETMQ << 24) | header.length, header);
}

describe('claimed-but-never-sent frames', () => {
  it('hold only the bytes actually received: 64 connections claiming 16 MiB each cost kilobytes, not a gigabyte', async () => {
    const big = await startTestServer();
    try {
      global.gc?.();
      const before = process.memoryUsage();
      const peers: RawPeer[] = [];
      for (let i = 0; i < 64; i++) {
        const peer = await RawPeer.open(big.server.remotingPort);
        // 16 MiB - 8: accepted by the default cap; then 1 KiB of it, then nothing.
        peer.write(rawFrame(16 * 1024 * 1024 - 8, (SerializeType.JSON << 24) | 100, Buffer.alloc(1024, 0x20)));
        peers.push(peer);
      }
      const claimed = 64 * (8 + 1024);
      await until(() => big.server.remoting.bufferedBytes() === claimed, `the server holds the ${claimed} bytes sent`);
      const client = await big.client();
      expect((await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).code).toBe(ResponseCode.SUCCESS);
      const after = process.memoryUsage();
      const grown = after.arrayBuffers - before.arrayBuffers;
      expect(grown, `array buffers grew by ${grown} bytes`).toBeLessThan(32 * 1024 * 1024);
      expect(
        peers.every((peer) => !peer.isClosed),
        'partial frames under the cap keep their connection',
      ).toBe(true);
      for (const peer of peers) peer.destroy();
    } finally {
      await big.stop();
    }
  });
});
