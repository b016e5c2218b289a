import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrameAt, encodeCommand, jsonHeaderDecodersForTests } from '../../src/protocol/frameCodec.js';
import { SerializeType, type RemotingCommand } from '../../src/remoting/command.js';
import { propertyRuns } from '../support/propertyRuns.js';

const { javaClientLayout, scanner, jsonParse } = jsonHeaderDecodersForTests;

const runs = (numRuns: number) => propertyRuns(numRuns, 20261125);

// Numbers around the fast path's limits: 9 digits, leading zeros, negatives, int32 edges.
const number = fc.oneof(
  fc.integer({ min: 0, max: 999 }),
  fc.integer({ min: 0, max: 999_999_999 }),
  fc.integer({ min: 1_000_000_000, max: 0x7fffffff }),
  fc.integer({ min: -0x80000000, max: -1 }),
);
// Mostly plain ASCII, sometimes a quote, backslash, control or non-ASCII character.
const text = fc.string({
  unit: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...'abcXYZ_-.:0123456789%') },
    { weight: 1, arbitrary: fc.constantFrom('"', '\\', '\n', 'é', '\u0000', '中') },
  ),
  maxLength: 24,
});
const extFields = fc.option(fc.dictionary(fc.oneof(fc.constant('topic'), text), text, { maxKeys: 4 }), { nil: null });
const javaCommand: fc.Arbitrary<RemotingCommand> = fc.record({
  code: number,
  language: fc.oneof({ weight: 9, arbitrary: fc.constant('JAVA') }, { weight: 1, arbitrary: fc.constant('GO') }),
  version: number,
  opaque: number,
  flag: fc.integer({ min: 0, max: 3 }),
  remark: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: text }),
  extFields,
  serializeType: fc.constant(SerializeType.JSON),
  body: fc.constant(null),
});

// Replacement bytes that matter to a JSON scanner, and sometimes any printable one.
const edit = fc.oneof(
  fc.constantFrom(...'0019"\\,:{}- e.a_'.split('').map((c) => c.charCodeAt(0))),
  fc.integer({ min: 0x20, max: 0x7e }),
);

// Commands the fast path takes before any edit.
const plainText = fc.string({ unit: fc.constantFrom(...'abcXYZ_-.:0123456789%'), maxLength: 24 });
const layoutCommand: fc.Arbitrary<RemotingCommand> = fc.record({
  code: fc.integer({ min: 0, max: 999_999_999 }),
  language: fc.constant('JAVA'),
  version: fc.integer({ min: 0, max: 999_999_999 }),
  opaque: fc.integer({ min: 0, max: 999_999_999 }),
  flag: fc.integer({ min: 0, max: 3 }),
  remark: fc.constant(null),
  extFields: fc.option(fc.dictionary(fc.oneof(fc.constant('topic'), plainText), plainText, { maxKeys: 3 }), {
    nil: null,
  }),
  serializeType: fc.constant(SerializeType.JSON),
  body: fc.constant(null),
});
// Mostly digits (numbers stay numbers, or gain a leading zero), some JSON structure.
const editByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x30, max: 0x39 }) },
  { weight: 1, arbitrary: edit },
);

function header(frame: Buffer): { start: number; end: number } {
  return { start: 8, end: 8 + (frame.readUInt32BE(4) & 0xffffff) };
}

describe('the Java client header fast path', () => {
  it('decodes what the Java client sends', () => {
    const frame = Buffer.from(
      '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":42,"serializeTypeCurrentRPC":"JSON","version":409}',
    );
    expect(javaClientLayout(frame, 0, frame.length, null)).toEqual({
      code: 105,
      language: 'JAVA',
      version: 409,
      opaque: 42,
      flag: 0,
      remark: null,
      extFields: { topic: 'TopicTest' },
      serializeType: SerializeType.JSON,
      body: null,
    });
  });

  it('leaves every other shape to the general decoders', () => {
    const others = [
      '{"code":105, "flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"flag":0,"language":"JAVA","opaque":4294967295,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":-1,"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":0105,"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"extFields":null,"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"extFields":{"__proto__":"x"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"extFields":{"topic":"a\\"b"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"flag":0,"language":"JAVA","opaque":1,"remark":"r","serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"flag":0,"language":"GO","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":105,"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409} ',
      '{"code":105,"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409',
    ];
    for (const text of others)
      expect(javaClientLayout(Buffer.from(text), 0, Buffer.byteLength(text), null), text).toBeUndefined();
  });

  it('decodes every command exactly as encoded, whichever decoder takes it', () => {
    fc.assert(
      fc.property(javaCommand, (command) => {
        const frame = encodeCommand(command);
        expect(decodeFrameAt(frame, 4, frame.length)).toEqual(command);
      }),
      runs(400),
    );
  });

  it('agrees with JSON.parse on whatever it accepts, corrupted headers included', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(layoutCommand, javaCommand),
        fc.array(fc.tuple(fc.nat(), editByte), { minLength: 1, maxLength: 2 }),
        (command, edits) => {
          const frame = Buffer.from(encodeCommand(command));
          const { start, end } = header(frame);
          for (const [at, byte] of edits) frame[start + (at % (end - start))] = byte;
          const fast = javaClientLayout(frame, start, end, null);
          if (fast === undefined) return;
          accepted++;
          const parsed = jsonParse(frame, start, end);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          expect(fast).toEqual({ ...parsed.header, serializeType: SerializeType.JSON, body: null });
          expect(scanner(frame, start, end, null)).toEqual(fast);
        },
      ),
      runs(3000),
    );
    // The edits must reach the fast path often enough to mean something.
    expect(accepted).toBeGreaterThan(100);
  });
});
