/**
 * The common JSON header, read straight from the bytes: the fast paths of
 * frameCodec.ts's decodeFrameAt.
 *
 * Clients write flat headers: ASCII strings without escapes, integers, null,
 * and extFields with string values. matchJavaClientHeader compares the Java
 * client's exact layout literal by literal; scanJsonCommand reads any field
 * order of that flat shape. Both give up (undefined) on anything else
 * (escapes, non-ASCII, fractions, true/false, unknown or repeated fields,
 * "__proto__", malformed JSON), which then goes through JSON.parse and the
 * checks in frameCodec.ts. Where they accept a header they produce the same
 * result as that slow path.
 */
import { SerializeType, type RemotingCommand } from '../remoting/command.js';

/** Bounds of the header's numbers: Java ints, and opaque also as an unsigned int (some clients count it so). */
export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;
export const UINT32_MAX = 0xffffffff;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** Top-level fields, a bit each for duplicate detection. */
const F_CODE = 1;
const F_LANGUAGE = 2;
const F_VERSION = 4;
const F_OPAQUE = 8;
const F_FLAG = 16;
const F_REMARK = 32;
const F_EXT = 64;
const F_RPC = 128;

const FIELD_CODE = Buffer.from('code');
const FIELD_FLAG = Buffer.from('flag');
const FIELD_OPAQUE = Buffer.from('opaque');
const FIELD_REMARK = Buffer.from('remark');
const FIELD_VERSION = Buffer.from('version');
const FIELD_LANGUAGE = Buffer.from('language');
const FIELD_EXT = Buffer.from('extFields');
const FIELD_RPC = Buffer.from('serializeTypeCurrentRPC');

/** Which top-level field the key at [start, end) names; 0 for none. */
function fieldOf(frame: Buffer, start: number, end: number): number {
  const first = frame[start];
  switch (end - start) {
    case 4:
      if (first === 0x63) return bytesEqual(frame, start, end, FIELD_CODE) ? F_CODE : 0;
      return bytesEqual(frame, start, end, FIELD_FLAG) ? F_FLAG : 0;
    case 6:
      if (first === 0x6f) return bytesEqual(frame, start, end, FIELD_OPAQUE) ? F_OPAQUE : 0;
      return bytesEqual(frame, start, end, FIELD_REMARK) ? F_REMARK : 0;
    case 7:
      return bytesEqual(frame, start, end, FIELD_VERSION) ? F_VERSION : 0;
    case 8:
      return bytesEqual(frame, start, end, FIELD_LANGUAGE) ? F_LANGUAGE : 0;
    case 9:
      return bytesEqual(frame, start, end, FIELD_EXT) ? F_EXT : 0;
    case 23:
      return bytesEqual(frame, start, end, FIELD_RPC) ? F_RPC : 0;
    default:
      return 0;
  }
}
const JAVA_BYTES = Buffer.from('JAVA');
const EXT_TOPIC = Buffer.from('topic');

function bytesEqual(frame: Buffer, start: number, end: number, expected: Buffer): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (frame[start + i] !== expected[i]) return false;
  return true;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

class HeaderScanner {
  pos: number;
  /** Bounds of the last string read, without quotes. */
  strStart = 0;
  strEnd = 0;

  constructor(
    readonly frame: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** The next non-space byte (not consumed), or -1 at the end. */
  peek(): number {
    const f = this.frame;
    while (this.pos < this.end) {
      const c = f[this.pos]!;
      if (!isJsonSpace(c)) return c;
      this.pos++;
    }
    return -1;
  }

  /** A string of printable ASCII without escapes; false for anything else. */
  string(): boolean {
    if (this.peek() !== QUOTE) return false;
    const f = this.frame;
    let i = this.pos + 1;
    this.strStart = i;
    for (;;) {
      if (i >= this.end) return false;
      const c = f[i]!;
      if (c === QUOTE) break;
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) return false;
      i++;
    }
    this.strEnd = i;
    this.pos = i + 1;
    return true;
  }

  text(): string {
    return this.frame.toString('latin1', this.strStart, this.strEnd);
  }

  /** An integer literal of at most 15 digits; undefined for anything else. */
  integer(): number | undefined {
    this.peek();
    const f = this.frame;
    let i = this.pos;
    let negative = false;
    if (f[i] === MINUS) {
      negative = true;
      i++;
    }
    const digitsFrom = i;
    let n = 0;
    while (i < this.end) {
      const c = f[i]!;
      if (c < ZERO || c > NINE) break;
      n = n * 10 + (c - ZERO);
      i++;
    }
    const digits = i - digitsFrom;
    if (digits === 0 || digits > 15) return undefined;
    // JSON has no leading zeros; fractions and exponents go the slow way.
    if (f[digitsFrom] === ZERO && digits > 1) return undefined;
    if (i < this.end && (f[i] === 0x2e || f[i] === 0x65 || f[i] === 0x45)) return undefined;
    this.pos = i;
    return negative ? -n : n;
  }

  literalNull(): boolean {
    this.peek();
    const f = this.frame;
    const p = this.pos;
    if (p + 4 <= this.end && f[p] === 0x6e && f[p + 1] === 0x75 && f[p + 2] === 0x6c && f[p + 3] === 0x6c) {
      this.pos = p + 4;
      return true;
    }
    return false;
  }

  byte(expected: number): boolean {
    if (this.peek() !== expected) return false;
    this.pos++;
    return true;
  }
}

function scanExtFields(s: HeaderScanner): Record<string, string> | null | undefined {
  if (s.literalNull()) return null;
  if (!s.byte(OPEN_BRACE)) return undefined;
  const ext: Record<string, string> = {};
  if (s.byte(CLOSE_BRACE)) return ext;
  for (;;) {
    if (!s.string()) return undefined;
    const keyStart = s.strStart;
    const keyEnd = s.strEnd;
    if (!s.byte(COLON) || !s.string()) return undefined;
    // The route read's one field gets a shared string; others are read out.
    const key = bytesEqual(s.frame, keyStart, keyEnd, EXT_TOPIC)
      ? 'topic'
      : s.frame.toString('latin1', keyStart, keyEnd);
    // JSON.parse makes "__proto__" an own data property; assignment would not.
    if (key === '__proto__') return undefined;
    ext[key] = s.text();
    if (s.byte(COMMA)) continue;
    if (s.byte(CLOSE_BRACE)) return ext;
    return undefined;
  }
}

/** A command with the common header shape, read from the bytes; undefined means "ask JSON.parse". */
export function scanJsonCommand(
  frame: Buffer,
  start: number,
  end: number,
  body: Buffer | null,
): RemotingCommand | undefined {
  const s = new HeaderScanner(frame, start, end);
  if (!s.byte(OPEN_BRACE)) return undefined;
  let seen = 0;
  let code = 0;
  let version = 0;
  let opaque = 0;
  let flag = 0;
  let language = 'JAVA';
  let remark: string | null = null;
  let extFields: Record<string, string> | null = null;
  if (!s.byte(CLOSE_BRACE)) {
    for (;;) {
      if (!s.string()) return undefined;
      const field = fieldOf(frame, s.strStart, s.strEnd);
      if (field === 0 || (seen & field) !== 0 || !s.byte(COLON)) return undefined;
      seen |= field;
      switch (field) {
        case F_CODE:
        case F_VERSION:
        case F_OPAQUE:
        case F_FLAG: {
          const n = s.integer();
          if (n === undefined) return undefined;
          if (field === F_CODE) code = n;
          else if (field === F_VERSION) version = n;
          else if (field === F_OPAQUE) opaque = n;
          else flag = n;
          break;
        }
        case F_LANGUAGE:
          if (!s.string()) return undefined;
          language = bytesEqual(frame, s.strStart, s.strEnd, JAVA_BYTES) ? 'JAVA' : s.text();
          break;
        case F_REMARK:
          if (s.literalNull()) remark = null;
          else if (s.string()) remark = s.text();
          else return undefined;
          break;
        case F_EXT: {
          const ext = scanExtFields(s);
          if (ext === undefined) return undefined;
          extFields = ext;
          break;
        }
        default:
          // serializeTypeCurrentRPC: read and ignored, as the slow path does.
          if (!s.string()) return undefined;
      }
      if (s.byte(COMMA)) continue;
      if (s.byte(CLOSE_BRACE)) break;
      return undefined;
    }
  }
  if (s.peek() !== -1) return undefined;
  // Out-of-range numbers and a missing code get the slow path's error messages.
  if ((seen & F_CODE) === 0 || code < INT32_MIN || code > INT32_MAX) return undefined;
  if (
    version < INT32_MIN ||
    version > INT32_MAX ||
    opaque < INT32_MIN ||
    opaque > UINT32_MAX ||
    flag < INT32_MIN ||
    flag > INT32_MAX
  )
    return undefined;
  return { code, language, version, opaque, flag, remark, extFields, serializeType: SerializeType.JSON, body };
}

// The header Java clients (and ali-ons) send, as fastjson lays it out:
// {"code":C[,"extFields":{"k":"v",...}],"flag":F,"language":"JAVA","opaque":O,"serializeTypeCurrentRPC":"JSON","version":V}
const JAVA_CODE = Buffer.from('{"code":');
const JAVA_EXT = Buffer.from(',"extFields":{');
const JAVA_FLAG = Buffer.from(',"flag":');
const JAVA_LANGUAGE_OPAQUE = Buffer.from(',"language":"JAVA","opaque":');
const JAVA_RPC_VERSION = Buffer.from(',"serializeTypeCurrentRPC":"JSON","version":');
const LOWER_E = 0x65;

/** The position after `literal` if the bytes at `at` are exactly it, else -1. */
function literalAt(frame: Buffer, at: number, end: number, literal: Buffer): number {
  const n = literal.length;
  if (at + n > end) return -1;
  for (let i = 0; i < n; i++) if (frame[at + i] !== literal[i]) return -1;
  return at + n;
}

/** The end of 1 to 9 decimal digits without a leading zero at `at` (always an int32), else -1. */
function digitsAt(frame: Buffer, at: number, end: number): number {
  let i = at;
  while (i < end && i - at < 10) {
    const c = frame[i]!;
    if (c < ZERO || c > NINE) break;
    i++;
  }
  const digits = i - at;
  if (digits === 0 || digits > 9 || (digits > 1 && frame[at] === ZERO)) return -1;
  return i;
}

function digitsValue(frame: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (frame[i]! - ZERO);
  return n;
}

/** The end of a string's content (its closing quote) of printable ASCII without escapes from `at`, else -1. */
function plainStringEnd(frame: Buffer, at: number, end: number): number {
  for (let i = at; i < end; i++) {
    const c = frame[i]!;
    if (c === QUOTE) return i;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * The Java client's exact header layout, compared literal by literal: most
 * requests a name server gets look like this, and matching them costs less
 * than half of scanning JSON in general. Anything else (whitespace, other
 * field orders, negative or 10-digit numbers, a remark, escapes) is
 * undefined here and goes to scanJsonCommand, which decodes it the same way.
 */
export function matchJavaClientHeader(
  frame: Buffer,
  start: number,
  end: number,
  body: Buffer | null,
): RemotingCommand | undefined {
  let p = literalAt(frame, start, end, JAVA_CODE);
  if (p < 0) return undefined;
  let from = p;
  p = digitsAt(frame, p, end);
  if (p < 0) return undefined;
  const code = digitsValue(frame, from, p);
  let extFields: Record<string, string> | null = null;
  if (frame[p + 2] === LOWER_E) {
    p = literalAt(frame, p, end, JAVA_EXT);
    if (p < 0) return undefined;
    extFields = {};
    if (frame[p] !== CLOSE_BRACE) {
      for (;;) {
        if (frame[p] !== QUOTE) return undefined;
        const keyStart = p + 1;
        const keyEnd = plainStringEnd(frame, keyStart, end);
        if (keyEnd < 0 || frame[keyEnd + 1] !== COLON || frame[keyEnd + 2] !== QUOTE) return undefined;
        const valueStart = keyEnd + 3;
        const valueEnd = plainStringEnd(frame, valueStart, end);
        if (valueEnd < 0) return undefined;
        // The route read's one field gets a shared string; others are read out.
        const key = bytesEqual(frame, keyStart, keyEnd, EXT_TOPIC)
          ? 'topic'
          : frame.toString('latin1', keyStart, keyEnd);
        // JSON.parse makes "__proto__" an own data property; assignment would not.
        if (key === '__proto__') return undefined;
        extFields[key] = frame.toString('latin1', valueStart, valueEnd);
        p = valueEnd + 1;
        if (frame[p] !== COMMA) break;
        p++;
      }
    }
    if (frame[p] !== CLOSE_BRACE) return undefined;
    p++;
  }
  p = literalAt(frame, p, end, JAVA_FLAG);
  if (p < 0) return undefined;
  from = p;
  p = digitsAt(frame, p, end);
  if (p < 0) return undefined;
  const flag = digitsValue(frame, from, p);
  p = literalAt(frame, p, end, JAVA_LANGUAGE_OPAQUE);
  if (p < 0) return undefined;
  from = p;
  p = digitsAt(frame, p, end);
  if (p < 0) return undefined;
  const opaque = digitsValue(frame, from, p);
  p = literalAt(frame, p, end, JAVA_RPC_VERSION);
  if (p < 0) return undefined;
  from = p;
  p = digitsAt(frame, p, end);
  if (p < 0 || p + 1 !== end || frame[p] !== CLOSE_BRACE) return undefined;
  const version = digitsValue(frame, from, p);
  return {
    code,
    language: 'JAVA',
    version,
    opaque,
    flag,
    remark: null,
    extFields,
    serializeType: SerializeType.JSON,
    body,
  };
}
