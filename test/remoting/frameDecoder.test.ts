import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/protocol/frameCodec.js';
import { createRequest, createResponse, SerializeType, type RemotingCommand } from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';
import { LanguageCode, type LanguageName } from '../../src/remoting/requestCode.js';
import { jsonHeaderFrame, rawFrame } from '../support/frames.js';
import { propertyRuns } from '../support/propertyRuns.js';

/** A frame whose prefix words say this type, total length and header length (true or not). */
function frameOf(type: SerializeType, totalLength: number, headerLength: number, rest?: Buffer): Buffer {
  return rawFrame(totalLength, (type << 24) | headerLength, rest);
}

const sample: RemotingCommand[] = [
  createRequest(105, { topic: 'TopicTest' }, null, { opaque: 1 }),
  createRequest(103, { brokerName: 'broker-a' }, Buffer.from('{"a":1}'), {
    opaque: 2,
    serializeType: SerializeType.ROCKETMQ,
  }),
  createResponse(createRequest(106, null, null, { opaque: 3 }), 0, 'done', null, Buffer.from('body')),
];
const sampleBytes = Buffer.concat(sample.map(encodeCommand));

describe('FrameDecoder', () => {
  it('decodes several frames delivered in one chunk', () => {
    const result = new FrameDecoder().push(sampleBytes);
    expect(result.error).toBeUndefined();
    expect(result.frames).toEqual(sample);
  });

  it('decodes frames delivered one byte at a time', () => {
    const decoder = new FrameDecoder();
    const frames: RemotingCommand[] = [];
    for (let i = 0; i < sampleBytes.length; i++) {
      const result = decoder.push(sampleBytes.subarray(i, i + 1));
      expect(result.error).toBeUndefined();
      frames.push(...result.frames);
    }
    expect(frames).toEqual(sample);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('completes a frame split across chunks and keeps the remainder', () => {
    const decoder = new FrameDecoder();
    const firstEnd = encodeCommand(sample[0]!).length;
    const cut = firstEnd + 5;
    const first = decoder.push(sampleBytes.subarray(0, cut));
    expect(first.frames).toEqual([sample[0]]);
    expect(decoder.bufferedBytes).toBe(5);
    const second = decoder.push(sampleBytes.subarray(cut));
    expect(second.frames).toEqual(sample.slice(1));
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.alloc(0))).toEqual({ frames: [] });
    expect(decoder.push(sampleBytes).frames).toHaveLength(3);
  });

  it('accepts a frame of exactly the maximum length and refuses one byte more (the length word counts, as in Netty)', () => {
    const max = 64;
    const header = '{"code":105}'.padEnd(max - 8, ' ');
    const exact = new FrameDecoder(max).push(jsonHeaderFrame(header));
    expect(exact.error).toBeUndefined();
    expect(exact.frames).toHaveLength(1);
    const tooLong = jsonHeaderFrame(`${header} `);
    expect(new FrameDecoder(max).push(tooLong).error).toMatch(/exceeds the maximum frame length 64/);
  });

  it.each([
    ['over the cap', frameOf(SerializeType.JSON, 0x7ffffff0, 10), /exceeds the maximum frame length/],
    ['negative', frameOf(SerializeType.JSON, -1, 0), /frame length -1 is smaller/],
    ['smaller than the header length word', frameOf(SerializeType.JSON, 3, 0), /frame length 3 is smaller/],
    ['claiming a header past the frame', frameOf(SerializeType.JSON, 20, 17), /header length 17 exceeds/],
  ])('reports a length %s as soon as 8 bytes are in, without buffering', (_name, prefix, pattern) => {
    const decoder = new FrameDecoder();
    for (let i = 0; i < 7; i++) expect(decoder.push(prefix.subarray(i, i + 1)).error).toBeUndefined();
    const result = decoder.push(prefix.subarray(7, 8));
    expect(result.error).toMatch(pattern);
    expect(decoder.failed).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reports an undecodable JSON header', () => {
    expect(new FrameDecoder().push(jsonHeaderFrame('{"code":')).error).toMatch(/undecodable JSON header/);
  });

  it('reports a truncated binary header', () => {
    const header = Buffer.alloc(12);
    expect(
      new FrameDecoder().push(frameOf(SerializeType.ROCKETMQ, 4 + header.length, header.length, header)).error,
    ).toMatch(/shorter than/);
  });

  it('returns the frames before an error and stays dead afterwards', () => {
    const decoder = new FrameDecoder();
    const first = decoder.push(
      Buffer.concat([encodeCommand(sample[0]!), jsonHeaderFrame('nope'), encodeCommand(sample[1]!)]),
    );
    expect(first.frames).toEqual([sample[0]]);
    expect(first.error).toMatch(/undecodable/);
    const later = decoder.push(encodeCommand(sample[2]!));
    expect(later.frames).toEqual([]);
    expect(later.error).toBe(first.error);
  });

  it('does not rejoin a large partial frame on every chunk', () => {
    const big = encodeCommand(createRequest(103, null, Buffer.alloc(256 * 1024, 7)));
    const decoder = new FrameDecoder();
    const frames: RemotingCommand[] = [];
    for (let i = 0; i < big.length; i += 1000) frames.push(...decoder.push(big.subarray(i, i + 1000)).frames);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.body!.length).toBe(256 * 1024);
  });
});

const languageNames = Object.keys(LanguageCode) as LanguageName[];
const text = fc.string({ unit: 'binary', maxLength: 40 });
const extFields = fc.dictionary(
  text.filter((key) => key !== '__proto__'),
  text,
  { minKeys: 1, maxKeys: 6 },
);
const body = fc.option(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  { nil: null },
);

const jsonCommand: fc.Arbitrary<RemotingCommand> = fc.record({
  code: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  language: fc.constantFrom<string>(...languageNames),
  version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  opaque: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  flag: fc.integer({ min: 0, max: 3 }),
  remark: fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: null }),
  extFields: fc.option(extFields, { nil: null }),
  serializeType: fc.constant(SerializeType.JSON),
  body,
});

// Binary headers cannot tell an empty remark or empty ext fields from absent ones.
const binaryCommand: fc.Arbitrary<RemotingCommand> = fc.record({
  code: fc.integer({ min: -0x8000, max: 0x7fff }),
  language: fc.constantFrom<string>(...languageNames),
  version: fc.integer({ min: -0x8000, max: 0x7fff }),
  opaque: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  flag: fc.integer({ min: 0, max: 3 }),
  remark: fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), { nil: null }),
  extFields: fc.option(extFields, { nil: null }),
  serializeType: fc.constant(SerializeType.ROCKETMQ),
  body,
});

const runs = (numRuns: number) => propertyRuns(numRuns, 20250611);

/** Splits `bytes` at the given (unsorted, possibly repeated) cut points. */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

describe('FrameDecoder properties', () => {
  it('decodes any chunking of valid frames to the encoded commands', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(jsonCommand, binaryCommand), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (commands, cuts) => {
          const decoder = new FrameDecoder();
          const frames: RemotingCommand[] = [];
          for (const piece of chunk(Buffer.concat(commands.map(encodeCommand)), cuts)) {
            const result = decoder.push(piece);
            expect(result.error).toBeUndefined();
            frames.push(...result.frames);
          }
          expect(frames).toEqual(commands);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      runs(300),
    );
  });

  it('never throws on arbitrary bytes, and fails for good once it fails', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const decoder = new FrameDecoder(1024);
        let error: string | undefined;
        for (const piece of chunk(Buffer.from(bytes), cuts)) {
          const result = decoder.push(piece);
          if (error !== undefined) expect(result).toEqual({ frames: [], error });
          error ??= result.error;
        }
      }),
      runs(500),
    );
  });

  it('never throws on valid frames with corrupted bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(jsonCommand, binaryCommand),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (command, flips) => {
          const bytes = encodeCommand(command);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          // A corrupted length may split the bytes into several frames; all that matters is a result, not an exception.
          const result = new FrameDecoder().push(bytes);
          expect(Array.isArray(result.frames)).toBe(true);
          expect(result.error === undefined || typeof result.error === 'string').toBe(true);
        },
      ),
      runs(500),
    );
  });
});
