import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkBodyCrc32, decodeRegisterBrokerBody, encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { peekRegisterBody } from '../../src/protocol/registerBodyPeek.js';
import type { TopicConfig, TopicQueueMappingInfo } from '../../src/protocol/types.js';
import { routeFixture as fixture } from '../support/routeFixtures.js';
import { body, GOLDEN, header, mustDecode, topic } from './registerBodyFixtures.js';

describe('golden 4.9.8 register bodies', () => {
  it.each(GOLDEN)('%s carries bodyCrc32 = CRC32(body) & 0x7fffffff', (name) => {
    const b = fixture(`${name}.body.bin`);
    const crc = Number(header(`${name}.header.json`).extFields.bodyCrc32);
    expect(checkBodyCrc32(b, crc)).toBe(true);
    expect(checkBodyCrc32(b, crc ^ 1)).toBe(false);
    expect(checkBodyCrc32(b, 0)).toBe(true);
    expect(checkBodyCrc32(undefined, crc)).toBe(false);
    expect(checkBodyCrc32(undefined, 0)).toBe(true);
  });

  it.each(GOLDEN)('%s decodes and re-encodes to the same bytes', (name) => {
    const b = fixture(`${name}.body.bin`);
    const decoded = mustDecode(b, false, 409);
    expect(decoded.filterServerList).toEqual([]);
    expect(decoded.topicConfigSerializeWrapper.dataVersion.stateVersion).toBeUndefined();
    expect(encodeRegisterBrokerBody(decoded, { compressed: false, generation: '4.9' }).equals(b)).toBe(true);
  });

  it('reads the first registration as Java does', () => {
    const decoded = mustDecode(fixture('register_broker.request.body.bin'), false);
    const wrapper = decoded.topicConfigSerializeWrapper;
    expect(wrapper.dataVersion).toEqual({ counter: 0, timestamp: 1795585661094 });
    expect(wrapper.topicConfigTable.size).toBe(8);
    expect(wrapper.topicConfigTable.get('BenchmarkTest')).toEqual({
      topicName: 'BenchmarkTest',
      readQueueNums: 1024,
      writeQueueNums: 1024,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    });
    expect(wrapper.topicQueueMappingInfoMap).toBeUndefined();
  });
});

describe('both generations, both forms', () => {
  const mapping: TopicQueueMappingInfo = {
    topic: 'static-topic',
    scope: '__global__',
    totalQueues: 4,
    bname: 'broker-a',
    epoch: 1700000000000,
    dirty: false,
    currIdMap: { '0': 0, '1': 1, '10': 3, '2': 2 },
  };
  const topics = [
    topic('TopicA'),
    topic('TopicB', { perm: 4, readQueueNums: 16 }),
    topic('%RETRY%group', { topicFilterType: 'MULTI_TAG' }),
  ];

  it('4.9 JSON and 4.9 compressed decode to the same thing', () => {
    const input = body(topics);
    const json = mustDecode(encodeRegisterBrokerBody(input, { compressed: false, generation: '4.9' }), false);
    const zipped = mustDecode(encodeRegisterBrokerBody(input, { compressed: true, generation: '4.9' }), true, 409);
    expect(zipped).toEqual(json);
    expect(json.topicConfigSerializeWrapper.topicConfigTable.get('TopicA')!.attributes).toBeUndefined();
  });

  it('5.x JSON and 5.x compressed decode to the same thing, mappings included', () => {
    const input = body(
      topics.map((t): TopicConfig => ({
        ...t,
        attributes: t.topicName === 'TopicA' ? { '+message.type': 'NORMAL' } : {},
      })),
      {
        dataVersion: { counter: 7, stateVersion: 2, timestamp: 1700000000999 },
        topicQueueMappingInfoMap: new Map([['static-topic', mapping]]),
      },
    );
    const jsonBytes = encodeRegisterBrokerBody(input, { compressed: false, generation: '5.x' });
    // fastjson writes Integer map keys bare; the decoder must accept that.
    expect(jsonBytes.toString()).toContain('"currIdMap":{0:0,1:1,2:2,10:3}');
    const json = mustDecode(jsonBytes, false);
    const zipped = mustDecode(encodeRegisterBrokerBody(input, { compressed: true, generation: '5.x' }), true, 413);
    expect(zipped).toEqual(json);
    expect(json.topicConfigSerializeWrapper.dataVersion).toEqual({
      counter: 7,
      stateVersion: 2,
      timestamp: 1700000000999,
    });
    expect(json.topicConfigSerializeWrapper.topicQueueMappingInfoMap!.get('static-topic')).toEqual(mapping);
    expect(json.topicConfigSerializeWrapper.topicConfigTable.get('TopicA')!.attributes).toEqual({
      '+message.type': 'NORMAL',
    });
  });

  it('a 5.x compressed body from a sender older than 5.0 ignores the mapping section, as Java does', () => {
    const input = body(topics, { topicQueueMappingInfoMap: new Map([['static-topic', mapping]]) });
    const zipped = encodeRegisterBrokerBody(input, { compressed: true, generation: '5.x' });
    expect(mustDecode(zipped, true, 409).topicConfigSerializeWrapper.topicQueueMappingInfoMap).toBeUndefined();
    expect(mustDecode(zipped, true).topicConfigSerializeWrapper.topicQueueMappingInfoMap!.size).toBe(1);
  });

  it('the compressed text form drops topicSysFlag and order, as Java does', () => {
    const input = body([topic('Unit', { topicSysFlag: 3, order: true })]);
    const zipped = mustDecode(encodeRegisterBrokerBody(input, { compressed: true }), true);
    const tc = zipped.topicConfigSerializeWrapper.topicConfigTable.get('Unit')!;
    expect(tc.topicSysFlag).toBe(0);
    expect(tc.order).toBe(false);
  });

  it('a bare TopicConfigSerializeWrapper is read from senders before V3_0_11', () => {
    const legacy = Buffer.from(
      '{"dataVersion":{"counter":1,"timestamp":5},"topicConfigTable":{"T":{"topicName":"T","perm":6}}}',
    );
    const decoded = mustDecode(legacy, false, 36);
    expect(decoded.filterServerList).toBeNull();
    expect(decoded.topicConfigSerializeWrapper.topicConfigTable.get('T')).toMatchObject({
      readQueueNums: 16,
      writeQueueNums: 16,
      perm: 6,
    });
  });

  it('fills Java defaults for absent fields', () => {
    const decoded = decodeRegisterBrokerBody(Buffer.from('{}'), false, { now: 42 });
    expect(decoded).toEqual({
      ok: true,
      value: {
        topicConfigSerializeWrapper: {
          topicConfigTable: new Map(),
          dataVersion: { counter: 0, stateVersion: 0, timestamp: 42 },
        },
        filterServerList: [],
      },
    });
    const nullList = mustDecode(Buffer.from('{"filterServerList":null}'), false);
    expect(nullList.filterServerList).toBeNull();
  });
});

describe('refusals', () => {
  function zlibParts(parts: Array<number | string>): Buffer {
    const chunks = parts.map((p) => {
      if (typeof p === 'number') {
        const b = Buffer.alloc(4);
        b.writeInt32BE(p, 0);
        return b;
      }
      return Buffer.from(p, 'utf8');
    });
    return deflateSync(Buffer.concat(chunks));
  }
  const dv = '{"counter":1,"timestamp":2}';
  // A length-prefixed part.
  const lp = (text: string): [number, string] => [Buffer.byteLength(text), text];

  it.each([
    ['not JSON', Buffer.from('{"filterServerList":['), false],
    ['a JSON array', Buffer.from('[]'), false],
    [
      'a topic config without a name',
      Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":6}}}}'),
      false,
    ],
    [
      'a queue count that is not an int',
      Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":"x"}}}}'),
      false,
    ],
    [
      'an int beyond int range',
      Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","perm":4294967296}}}}'),
      false,
    ],
    ['a filter list that is an object', Buffer.from('{"filterServerList":{}}'), false],
    ['a dataVersion that is a string', Buffer.from('{"topicConfigSerializeWrapper":{"dataVersion":"x"}}'), false],
    ['not zlib', Buffer.from('hello'), true],
    ['a truncated stream', zlibParts([...lp(dv), 2, ...lp('T 1 1 6 SINGLE_TAG')]), true],
    ['an absurd topic count', zlibParts([...lp(dv), 0x7fffffff]), true],
    ['a negative length', zlibParts([-5]), true],
    ['a length past the end', zlibParts([1000, dv]), true],
    ['a topic with four fields', zlibParts([...lp(dv), 1, ...lp('T 1 1 6'), ...lp('[]')]), true],
    ['a bad filter type', zlibParts([...lp(dv), 1, ...lp('T 1 1 6 NOTYPE'), ...lp('[]')]), true],
    ['a bad int', zlibParts([...lp(dv), 1, ...lp('T 1x 1 6 SINGLE_TAG'), ...lp('[]')]), true],
    ['an absurd mapping count', zlibParts([...lp(dv), 0, ...lp('[]'), 0x40000000]), true],
    ['a mapping without a topic', zlibParts([...lp(dv), 0, ...lp('[]'), 1, ...lp('{}')]), true],
  ] as const)('refuses %s', (_what, buf, compressed) => {
    const result = decodeRegisterBrokerBody(buf, compressed);
    expect(result.ok).toBe(false);
  });

  it('bounds inflation', () => {
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const result = decodeRegisterBrokerBody(bomb, true, { maxInflatedBytes: 1024 * 1024 });
    expect(result.ok).toBe(false);
  });

  it('keeps going when the filter list or attributes do not parse (Java ignores both)', () => {
    const b = zlibParts([...lp(dv), 1, ...lp('T 1 1 6 SINGLE_TAG {"a b":1}'), ...lp('{x}')]);
    const decoded = mustDecode(b, true);
    expect(decoded.filterServerList).toEqual([]);
    expect(decoded.topicConfigSerializeWrapper.topicConfigTable.get('T')!.attributes).toEqual({});
  });

  it('never throws on random or mutated bodies', () => {
    const seeds = [
      fixture('register_broker.request.body.bin'),
      encodeRegisterBrokerBody(body([topic('A'), topic('B')]), { compressed: true, generation: '5.x' }),
      encodeRegisterBrokerBody(body([topic('A')]), { compressed: false, generation: '5.x' }),
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
          fc
            .tuple(
              fc.constantFrom(...seeds),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
              fc.nat(),
            )
            .map(([seed, edits, cut]) => {
              const copy = Buffer.from(seed);
              for (const [at, v] of edits) copy[at % copy.length] = v;
              return cut % 3 === 0 ? copy.subarray(0, cut % (copy.length + 1)) : copy;
            }),
        ),
        fc.boolean(),
        (buf, compressed) => {
          const decoded = decodeRegisterBrokerBody(buf, compressed);
          expect(typeof decoded.ok).toBe('boolean');
          const peek = peekRegisterBody(buf, { compressed });
          expect(peek === undefined || typeof peek.dataVersion.timestamp === 'number').toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});
