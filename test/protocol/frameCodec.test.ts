import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type DecodeResult } from '../../src/protocol/frameCodec.js';
import {
  createRequest,
  createResponse,
  ONEWAY_FLAG,
  RESPONSE_FLAG,
  SerializeType,
  isOneway,
  isResponse,
  type RemotingCommand,
} from '../../src/remoting/command.js';
import { LanguageCode, MQVersion, ResponseCode } from '../../src/remoting/requestCode.js';

/** Decodes a whole frame as encodeCommand produced it (with its total-length word). */
function roundTrip(command: RemotingCommand): RemotingCommand {
  const frame = encodeCommand(command);
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const decoded = decodeCommand(frame.subarray(4));
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.command;
}

function jsonFrame(header: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const headerBytes = Buffer.from(header, 'utf8');
  const word = Buffer.alloc(4);
  word.writeInt32BE(headerBytes.length);
  return Buffer.concat([word, headerBytes, body]);
}

function expectError(result: DecodeResult, pattern: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(pattern);
}

/** Builds a binary header from parts so tests can corrupt any field. */
function binaryHeader(parts: {
  remark?: Buffer;
  remarkLength?: number;
  ext?: Buffer;
  extLength?: number;
  trailing?: Buffer;
}): Buffer {
  const fixed = Buffer.alloc(13);
  fixed.writeInt16BE(105, 0);
  fixed.writeUInt8(LanguageCode.GO, 2);
  fixed.writeInt16BE(MQVersion.V4_9_8, 3);
  fixed.writeInt32BE(7, 5);
  fixed.writeInt32BE(0, 9);
  const remark = parts.remark ?? Buffer.alloc(0);
  const ext = parts.ext ?? Buffer.alloc(0);
  const remarkLength = Buffer.alloc(4);
  remarkLength.writeInt32BE(parts.remarkLength ?? remark.length);
  const extLength = Buffer.alloc(4);
  extLength.writeInt32BE(parts.extLength ?? ext.length);
  const header = Buffer.concat([fixed, remarkLength, remark, extLength, ext, parts.trailing ?? Buffer.alloc(0)]);
  const word = Buffer.alloc(4);
  word.writeInt32BE((SerializeType.ROCKETMQ << 24) | header.length);
  return Buffer.concat([word, header]);
}

function extEntry(key: string, value: string): Buffer {
  const k = Buffer.from(key, 'utf8');
  const v = Buffer.from(value, 'utf8');
  const out = Buffer.alloc(2 + k.length + 4 + v.length);
  out.writeInt16BE(k.length, 0);
  k.copy(out, 2);
  out.writeInt32BE(v.length, 2 + k.length);
  v.copy(out, 6 + k.length);
  return out;
}

describe('command helpers', () => {
  it('flags responses and oneway requests', () => {
    const request = createRequest(105, { topic: 'T' });
    expect(isResponse(request)).toBe(false);
    expect(isOneway(request)).toBe(false);
    expect(isOneway(createRequest(105, null, null, { oneway: true }))).toBe(true);
    expect(ONEWAY_FLAG).toBe(2);
    expect(RESPONSE_FLAG).toBe(1);
  });

  it('creates a response that echoes the opaque and serialization of its request', () => {
    const request = createRequest(105, { topic: 'T' }, null, {
      opaque: 42,
      serializeType: SerializeType.ROCKETMQ,
      language: 'GO',
      version: 5,
    });
    const response = createResponse(request, ResponseCode.TOPIC_NOT_EXIST, 'no route');
    expect(response).toEqual({
      code: ResponseCode.TOPIC_NOT_EXIST,
      language: 'JAVA',
      version: MQVersion.CURRENT,
      opaque: 42,
      flag: RESPONSE_FLAG,
      remark: 'no route',
      extFields: null,
      serializeType: SerializeType.ROCKETMQ,
      body: null,
    });
    expect(isResponse(response)).toBe(true);
  });
});

describe('JSON header', () => {
  it('writes fields in sorted order and leaves out a null remark and extFields', () => {
    const frame = encodeCommand(createResponse(createRequest(105, null, null, { opaque: 3 }), 0));
    expect(frame.subarray(8).toString('utf8')).toBe(
      `{"code":0,"flag":1,"language":"JAVA","opaque":3,"serializeTypeCurrentRPC":"JSON","version":${MQVersion.CURRENT}}`,
    );
  });

  it('writes empty extFields as {} when they are present', () => {
    const frame = encodeCommand(createResponse(createRequest(103), 0, null, {}));
    expect(frame.subarray(8).toString('utf8')).toContain('{"code":0,"extFields":{},"flag":1,');
  });

  it('round trips unicode remark, ext fields and body', () => {
    const command: RemotingCommand = {
      code: 100,
      language: 'NODE_JS',
      version: MQVersion.V4_9_4,
      opaque: -5,
      flag: ONEWAY_FLAG,
      remark: 'héllo "wörld"\n✓ 🚀',
      extFields: { namespace: 'ns', key: 'ключ', value: '値 "quoted" \\ back' },
      serializeType: SerializeType.JSON,
      body: Buffer.from('主体 body', 'utf8'),
    };
    expect(roundTrip(command)).toEqual(command);
  });

  it('decodes an empty body as null and keeps the header length word exact', () => {
    const frame = encodeCommand(createRequest(106));
    expect(frame.readInt32BE(4)).toBe(frame.length - 8);
    expect(roundTrip(createRequest(106)).body).toBeNull();
  });

  it('accepts scalar ext field values of any JSON type as strings and drops nulls', () => {
    const result = decodeCommand(
      jsonFrame('{"code":103,"extFields":{"brokerId":0,"compressed":false,"ratio":1.5,"gone":null,"s":"x"}}'),
    );
    expect(result.ok && result.command.extFields).toEqual({ brokerId: '0', compressed: 'false', ratio: '1.5', s: 'x' });
  });

  it('fills absent optional fields with defaults', () => {
    const result = decodeCommand(jsonFrame('{"code":105}'));
    expect(result.ok && result.command).toEqual({
      code: 105,
      language: 'JAVA',
      version: 0,
      opaque: 0,
      flag: 0,
      remark: null,
      extFields: null,
      serializeType: SerializeType.JSON,
      body: null,
    });
  });

  it('keeps a __proto__ ext key as plain data', () => {
    const result = decodeCommand(jsonFrame('{"code":105,"extFields":{"__proto__":"x","topic":"T"}}'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const ext = result.command.extFields!;
    expect(Object.getPrototypeOf(ext)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(ext, '__proto__')).toBe(true);
    expect(ext.topic).toBe('T');
  });

  it.each([
    ['not JSON', '{"code":', /undecodable JSON header/],
    ['an array', '[1,2]', /not an object/],
    ['a string', '"x"', /not an object/],
    ['null', 'null', /not an object/],
    ['missing code', '{"flag":0}', /code/],
    ['fractional code', '{"code":1.5}', /code/],
    ['string code', '{"code":"105"}', /code/],
    ['huge code', '{"code":1e20}', /code/],
    ['string opaque', '{"code":105,"opaque":"1"}', /opaque/],
    ['fractional flag', '{"code":105,"flag":0.5}', /flag/],
    ['object language', '{"code":105,"language":{}}', /language/],
    ['array extFields', '{"code":105,"extFields":["a"]}', /extFields/],
    ['nested ext value', '{"code":105,"extFields":{"a":{"b":1}}}', /extFields\.a/],
    ['object remark', '{"code":105,"remark":{}}', /remark/],
    ['empty header', '', /undecodable JSON header/],
  ])('rejects a header that is %s', (_name, header, pattern) => {
    expectError(decodeCommand(jsonFrame(header)), pattern);
  });
});

describe('ROCKETMQ (binary) header', () => {
  const base: RemotingCommand = {
    code: 105,
    language: 'GO',
    version: MQVersion.V4_9_8,
    opaque: 123456,
    flag: 0,
    remark: null,
    extFields: null,
    serializeType: SerializeType.ROCKETMQ,
    body: null,
  };

  it('round trips unicode remark and ext fields with a body', () => {
    const command: RemotingCommand = {
      ...base,
      code: 0,
      flag: RESPONSE_FLAG,
      opaque: -2147483648,
      remark: 'ошибка ✓ 🚀',
      extFields: { topic: 'TopicTest', ключ: '値', empty: '' },
      body: Buffer.from([0, 1, 2, 255]),
    };
    expect(roundTrip(command)).toEqual(command);
  });

  it('round trips a null remark, no ext fields and an empty body', () => {
    expect(roundTrip(base)).toEqual(base);
  });

  it('writes an empty remark and empty ext fields as absent, as the Java side does', () => {
    const decoded = roundTrip({ ...base, remark: '', extFields: {} });
    expect(decoded.remark).toBeNull();
    expect(decoded.extFields).toBeNull();
  });

  it('lays out the header as RocketMQSerializable does', () => {
    const frame = encodeCommand({ ...base, remark: 'r', extFields: { k: 'v' }, body: Buffer.from('B') });
    const header = frame.subarray(8);
    expect(frame.readUInt32BE(4) >>> 24).toBe(SerializeType.ROCKETMQ);
    expect(frame.readUInt32BE(4) & 0xffffff).toBe(2 + 1 + 2 + 4 + 4 + 4 + 1 + 4 + (2 + 1 + 4 + 1));
    expect(header.readInt16BE(0)).toBe(105);
    expect(header.readUInt8(2)).toBe(LanguageCode.GO);
    expect(header.readInt16BE(3)).toBe(MQVersion.V4_9_8);
    expect(header.readInt32BE(5)).toBe(123456);
    expect(header.readInt32BE(9)).toBe(0);
    expect(header.readInt32BE(13)).toBe(1);
    expect(header.toString('utf8', 17, 18)).toBe('r');
    expect(header.readInt32BE(18)).toBe(8);
    expect(header.readInt16BE(22)).toBe(1);
    expect(header.toString('utf8', 24, 25)).toBe('k');
    expect(header.readInt32BE(25)).toBe(1);
    expect(header.toString('utf8', 29, 31)).toBe('vB');
  });

  it('decodes negative response codes (int16)', () => {
    expect(roundTrip({ ...base, code: -1000, flag: RESPONSE_FLAG }).code).toBe(-1000);
  });

  it('decodes an unknown language number as OTHER', () => {
    const frame = binaryHeader({});
    frame.writeUInt8(200, 4 + 2);
    const result = decodeCommand(frame);
    expect(result.ok && result.command.language).toBe('OTHER');
  });

  it('decodes a hand-built header', () => {
    const result = decodeCommand(
      binaryHeader({ remark: Buffer.from('hi'), ext: Buffer.concat([extEntry('topic', 'T'), extEntry('a', '')]) }),
    );
    expect(result.ok && result.command).toMatchObject({
      code: 105,
      language: 'GO',
      opaque: 7,
      remark: 'hi',
      extFields: { topic: 'T', a: '' },
    });
  });

  it.each([
    [
      'shorter than its fixed part',
      () => {
        const frame = binaryHeader({}).subarray(0, 4 + 10);
        frame.writeInt32BE((SerializeType.ROCKETMQ << 24) | 10, 0);
        return frame;
      },
      /shorter than/,
    ],
    ['a negative remark length', () => binaryHeader({ remarkLength: -1 }), /remark length -1/],
    [
      'a remark length past the header',
      () => binaryHeader({ remark: Buffer.from('ab'), remarkLength: 50 }),
      /remark length 50/,
    ],
    ['a negative ext length', () => binaryHeader({ extLength: -3 }), /ext length -3/],
    ['an ext length past the header', () => binaryHeader({ ext: extEntry('k', 'v'), extLength: 99 }), /ext length 99/],
    ['trailing bytes after the ext fields', () => binaryHeader({ trailing: Buffer.from([1, 2]) }), /ext length 0/],
    ['a key length past the ext fields', () => binaryHeader({ ext: Buffer.from([0, 9, 0x61]) }), /key length 9/],
    [
      'a value length past the ext fields',
      () => {
        const entry = extEntry('k', 'v');
        entry.writeInt32BE(77, 3);
        return binaryHeader({ ext: entry });
      },
      /value length 77/,
    ],
    [
      'an entry cut inside its value length',
      () => binaryHeader({ ext: extEntry('k', 'v').subarray(0, 5) }),
      /truncated/,
    ],
    ['an entry cut inside its key length', () => binaryHeader({ ext: Buffer.from([0]) }), /truncated/],
  ])('rejects a header with %s', (_name, build, pattern) => {
    expectError(decodeCommand(build()), pattern);
  });
});

describe('frame level', () => {
  it('rejects a frame too short for the header length word', () => {
    expectError(decodeCommand(Buffer.from([0, 0])), /header length word/);
  });

  it('rejects a header length past the frame', () => {
    const frame = jsonFrame('{"code":105}');
    frame.writeInt32BE(1000, 0);
    expectError(decodeCommand(frame), /header length 1000/);
  });

  it('rejects an unknown serialize type', () => {
    const frame = jsonFrame('{"code":105}');
    frame.writeUInt8(2, 0);
    expectError(decodeCommand(frame), /serialize type 2/);
  });

  it('returns the body as a view, not a copy', () => {
    const frame = jsonFrame('{"code":105}', Buffer.from('body'));
    const result = decodeCommand(frame);
    expect(result.ok && result.command.body?.buffer).toBe(frame.buffer);
  });

  it('refuses to frame a header longer than 24 bits can say', () => {
    expect(() => encodeCommand({ ...createRequest(105), remark: 'x'.repeat(0x1000000) })).toThrow(RangeError);
  });
});
