/**
 * RocketMQ's remoting frame. Frame: int32 total length (not counting itself),
 * int32 serializeType << 24 | headerLength, header, body. All integers big
 * endian. The header is JSON (RemotingSerializable, what Java clients send by
 * default) or ROCKETMQ binary (RocketMQSerializable). Encoding writes the Java
 * side's exact bytes; decoding tries jsonHeaderScanner.ts's fast paths on a
 * JSON header before JSON.parse.
 */
import { setOwnKey } from '../util/ownKey.js';
import { SerializeType, type RemotingCommand } from '../remoting/command.js';
import { LanguageCode, languageCodeOf, languageNameOf } from '../remoting/requestCode.js';
import { errorMessage } from '../util/errorMessage.js';
import { truncate } from '../util/truncate.js';
import { INT32_MAX, INT32_MIN, matchJavaClientHeader, scanJsonCommand, UINT32_MAX } from './jsonHeaderScanner.js';

export type DecodeResult = { ok: true; command: RemotingCommand } | { ok: false; error: string };

/** Bytes before the header in a whole frame: the total length word and the type/header-length word. */
export const FRAME_PREFIX_LENGTH = 8;
/** The header length has 24 bits in the frame's second word. */
export const MAX_HEADER_LENGTH = 0xffffff;

/** code, language, version, opaque, flag, remark length, ext length. */
const BINARY_FIXED_HEADER_LENGTH = 2 + 1 + 2 + 4 + 4 + 4 + 4;
const MAX_BINARY_KEY_LENGTH = 0x7fff;

type CommandHeader = Omit<RemotingCommand, 'serializeType' | 'body'>;
type HeaderResult = { ok: true; header: CommandHeader } | { ok: false; error: string };

/**
 * The whole frame of `cmd`, allocated once. The JSON header is byte-identical
 * to what the Java side writes: fields in sorted order, `remark` and
 * `extFields` left out when null, `extFields` entries in their insertion order.
 * Throws RangeError only for commands that cannot be framed (header over 16 MiB,
 * a binary ext key over 32767 bytes).
 */
export function encodeCommand(cmd: RemotingCommand): Buffer {
  if (cmd.serializeType === SerializeType.ROCKETMQ) return encodeBinaryFrame(cmd);
  const prepared = prepareJsonFrame(cmd);
  const frame = Buffer.allocUnsafe(prepared.length);
  writeJsonFrame(prepared, frame, 0);
  return frame;
}

/**
 * A command measured for framing but not yet written, so a caller can put
 * many frames into one buffer (one socket write for a batch of answers).
 * The body is referenced, not copied, until the frame is written.
 */
export interface PreparedFrame {
  /** Whole frame length, its 4-byte length word included. */
  readonly length: number;
  readonly headerLength: number;
  /** JSON header text; undefined when `numeric` or `whole` stands for it. */
  readonly header: string | undefined;
  /** The header text is ASCII: one byte per character. */
  readonly ascii: boolean;
  /** A JSON header of numbers only (no ext fields, no remark, language JAVA), written digit by digit. */
  readonly numeric: RemotingCommand | undefined;
  readonly body: Buffer | null | undefined;
  /** A frame already encoded in full (binary headers). */
  readonly whole: Buffer | undefined;
}

/** Measures `cmd`'s frame; throws RangeError as encodeCommand does. */
export function prepareFrame(cmd: RemotingCommand): PreparedFrame {
  if (cmd.serializeType === SerializeType.ROCKETMQ) {
    const whole = encodeBinaryFrame(cmd);
    return {
      length: whole.length,
      headerLength: 0,
      header: undefined,
      ascii: true,
      numeric: undefined,
      body: null,
      whole,
    };
  }
  return prepareJsonFrame(cmd);
}

/** Writes a prepared frame at `offset` of `target` (which must have room); returns the offset after it. */
export function writePreparedFrame(prepared: PreparedFrame, target: Buffer, offset: number): number {
  if (prepared.whole !== undefined) {
    target.set(prepared.whole, offset);
    return offset + prepared.length;
  }
  return writeJsonFrame(prepared, target, offset);
}

// `{"code":C,"flag":F,"language":"JAVA","opaque":O,"serializeTypeCurrentRPC":"JSON","version":V}`
const NUMERIC_1 = Buffer.from('{"code":');
const NUMERIC_2 = Buffer.from(',"flag":');
const NUMERIC_3 = Buffer.from(',"language":"JAVA","opaque":');
const NUMERIC_4 = Buffer.from(',"serializeTypeCurrentRPC":"JSON","version":');
const NUMERIC_FIXED = NUMERIC_1.length + NUMERIC_2.length + NUMERIC_3.length + NUMERIC_4.length + 1;
/** NUMERIC_1 to NUMERIC_3 for the commonest header of all: a SUCCESS response (code 0, flag 1). */
const SUCCESS_RESPONSE_PREFIX = Buffer.from('{"code":0,"flag":1,"language":"JAVA","opaque":');

/** Characters of a safe integer in decimal, as String(n) writes it. */
function decimalLength(n: number): number {
  const v = n < 0 ? -n : n;
  // Comparisons, not divisions: this runs for every number of every answer header.
  let digits: number;
  if (v < 10) digits = 1;
  else if (v < 100) digits = 2;
  else if (v < 1000) digits = 3;
  else if (v < 10000) digits = 4;
  else if (v < 100000) digits = 5;
  else {
    digits = 6;
    for (let bound = 1000000; v >= bound && digits < 16; bound *= 10) digits++;
  }
  return n < 0 ? digits + 1 : digits;
}

function writeDecimal(target: Buffer, offset: number, n: number): number {
  const length = decimalLength(n);
  let v = n < 0 ? -n : n;
  let i = offset + length - 1;
  // Integer division by `| 0` is exact below 2^31; larger values take Math.floor.
  while (v >= 0x80000000) {
    target[i--] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  do {
    const q = (v / 10) | 0;
    target[i--] = 0x30 + (v - q * 10);
    v = q;
  } while (v > 0);
  if (n < 0) target[offset] = 0x2d;
  return offset + length;
}

function prepareJsonFrame(cmd: RemotingCommand): PreparedFrame {
  const body = cmd.body;
  const bodyLength = body ? body.length : 0;
  if (
    cmd.extFields == null &&
    cmd.remark == null &&
    cmd.language === 'JAVA' &&
    Number.isSafeInteger(cmd.code) &&
    Number.isSafeInteger(cmd.flag) &&
    Number.isSafeInteger(cmd.opaque) &&
    Number.isSafeInteger(cmd.version)
  ) {
    const headerLength =
      NUMERIC_FIXED +
      decimalLength(cmd.code) +
      decimalLength(cmd.flag) +
      decimalLength(cmd.opaque) +
      decimalLength(cmd.version);
    return {
      length: FRAME_PREFIX_LENGTH + headerLength + bodyLength,
      headerLength,
      header: undefined,
      ascii: true,
      numeric: cmd,
      body,
      whole: undefined,
    };
  }
  const header = jsonHeaderText(cmd);
  // Without extFields and remark the header is numbers and the language name:
  // no need to count UTF-8 bytes.
  const ascii = cmd.extFields == null && cmd.remark == null && isAsciiText(cmd.language);
  const headerLength = ascii ? header.length : Buffer.byteLength(header, 'utf8');
  if (headerLength > MAX_HEADER_LENGTH)
    throw new RangeError(`header of ${headerLength} bytes exceeds ${MAX_HEADER_LENGTH}`);
  return {
    length: FRAME_PREFIX_LENGTH + headerLength + bodyLength,
    headerLength,
    header,
    // As many bytes as characters means pure ASCII, which the cheaper latin1 writer copies exactly.
    ascii: ascii || headerLength === header.length,
    numeric: undefined,
    body,
    whole: undefined,
  };
}

function writeJsonFrame(p: PreparedFrame, target: Buffer, offset: number): number {
  const headerLength = p.headerLength;
  const bodyLength = p.length - FRAME_PREFIX_LENGTH - headerLength;
  target.writeInt32BE(4 + headerLength + bodyLength, offset);
  target.writeInt32BE((SerializeType.JSON << 24) | headerLength, offset + 4);
  const numeric = p.numeric;
  if (numeric !== undefined) {
    let at = offset + FRAME_PREFIX_LENGTH;
    if (numeric.code === 0 && numeric.flag === 1) {
      target.set(SUCCESS_RESPONSE_PREFIX, at);
      at += SUCCESS_RESPONSE_PREFIX.length;
    } else {
      target.set(NUMERIC_1, at);
      at = writeDecimal(target, at + NUMERIC_1.length, numeric.code);
      target.set(NUMERIC_2, at);
      at = writeDecimal(target, at + NUMERIC_2.length, numeric.flag);
      target.set(NUMERIC_3, at);
      at += NUMERIC_3.length;
    }
    at = writeDecimal(target, at, numeric.opaque);
    target.set(NUMERIC_4, at);
    at = writeDecimal(target, at + NUMERIC_4.length, numeric.version);
    target[at] = 0x7d; // }
  } else {
    target.write(p.header!, offset + FRAME_PREFIX_LENGTH, headerLength, p.ascii ? 'latin1' : 'utf8');
  }
  // TypedArray#set is a plain memmove; Buffer#copy builds a view per call first.
  if (p.body && bodyLength > 0) target.set(p.body, offset + FRAME_PREFIX_LENGTH + headerLength);
  return offset + p.length;
}

function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function jsonHeaderText(cmd: RemotingCommand): string {
  let text = '{"code":' + cmd.code;
  if (cmd.extFields != null) text += ',"extFields":' + JSON.stringify(cmd.extFields);
  text += ',"flag":' + cmd.flag + ',"language":' + quotedLanguage(cmd.language) + ',"opaque":' + cmd.opaque;
  if (cmd.remark != null) text += ',"remark":' + JSON.stringify(cmd.remark);
  return text + ',"serializeTypeCurrentRPC":"JSON","version":' + cmd.version + '}';
}

function quotedLanguage(language: string): string {
  return language === 'JAVA' ? '"JAVA"' : JSON.stringify(language);
}

function encodeBinaryFrame(cmd: RemotingCommand): Buffer {
  // Java writes an empty remark as absent (length 0), and skips null keys/values.
  const remark = cmd.remark ? cmd.remark : null;
  const remarkLength = remark === null ? 0 : Buffer.byteLength(remark, 'utf8');
  const ext = cmd.extFields;
  let extLength = 0;
  if (ext) {
    for (const key in ext) {
      if (!Object.prototype.hasOwnProperty.call(ext, key)) continue;
      const value = ext[key];
      if (value == null) continue;
      const keyLength = Buffer.byteLength(key, 'utf8');
      if (keyLength > MAX_BINARY_KEY_LENGTH)
        throw new RangeError(`ext field key of ${keyLength} bytes exceeds ${MAX_BINARY_KEY_LENGTH}`);
      extLength += 2 + keyLength + 4 + Buffer.byteLength(String(value), 'utf8');
    }
  }
  const headerLength = BINARY_FIXED_HEADER_LENGTH + remarkLength + extLength;
  const body = cmd.body;
  const bodyLength = body ? body.length : 0;
  const frame = allocateFrame(SerializeType.ROCKETMQ, headerLength, bodyLength);

  let offset = FRAME_PREFIX_LENGTH;
  // Fields are int16/int32 on the wire; masking keeps out-of-range numbers from throwing.
  offset = frame.writeUInt16BE(cmd.code & 0xffff, offset);
  offset = frame.writeUInt8(languageCodeOf(cmd.language) ?? LanguageCode.OTHER, offset);
  offset = frame.writeUInt16BE(cmd.version & 0xffff, offset);
  offset = frame.writeInt32BE(cmd.opaque | 0, offset);
  offset = frame.writeInt32BE(cmd.flag | 0, offset);
  offset = frame.writeInt32BE(remarkLength, offset);
  if (remark !== null) offset += frame.write(remark, offset, remarkLength, 'utf8');
  offset = frame.writeInt32BE(extLength, offset);
  if (ext) {
    for (const key in ext) {
      if (!Object.prototype.hasOwnProperty.call(ext, key)) continue;
      const value = ext[key];
      if (value == null) continue;
      // Write the text first, then its length in front of it: one UTF-8 pass per string.
      const keyLength = frame.write(key, offset + 2, 'utf8');
      frame.writeUInt16BE(keyLength, offset);
      offset += 2 + keyLength;
      const valueLength = frame.write(String(value), offset + 4, 'utf8');
      frame.writeInt32BE(valueLength, offset);
      offset += 4 + valueLength;
    }
  }
  if (body && bodyLength > 0) frame.set(body, offset);
  return frame;
}

function allocateFrame(type: SerializeType, headerLength: number, bodyLength: number): Buffer {
  if (headerLength > MAX_HEADER_LENGTH)
    throw new RangeError(`header of ${headerLength} bytes exceeds ${MAX_HEADER_LENGTH}`);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_LENGTH + headerLength + bodyLength);
  frame.writeInt32BE(4 + headerLength + bodyLength, 0);
  frame.writeInt32BE((type << 24) | headerLength, 4);
  return frame;
}

/**
 * Decodes one frame without its leading total-length word: it starts at the
 * type/header-length word. The returned body is a view into `frame` (no copy).
 * Never throws: malformed input gives `{ ok: false, error }`.
 */
export function decodeCommand(frame: Buffer): DecodeResult {
  const decoded = decodeFrameAt(frame, 0, frame.length);
  return typeof decoded === 'string' ? { ok: false, error: decoded } : { ok: true, command: decoded };
}

/**
 * decodeCommand for the frame at [start, end) of `buffer` (start at the
 * type/header-length word): the command, or the error. Never throws.
 */
export function decodeFrameAt(buffer: Buffer, start: number, end: number): RemotingCommand | string {
  const length = end - start;
  if (length < 4) return `frame of ${length} bytes has no header length word`;
  const word = buffer.readUInt32BE(start);
  const type = (word >>> 24) as SerializeType;
  const headerLength = word & MAX_HEADER_LENGTH;
  const headerStart = start + 4;
  const headerEnd = headerStart + headerLength;
  if (headerEnd > end) return `header length ${headerLength} exceeds the ${length - 4} bytes after it`;
  const body = headerEnd < end ? buffer.subarray(headerEnd, end) : null;
  let decoded: HeaderResult;
  if (type === SerializeType.JSON) {
    const fast =
      matchJavaClientHeader(buffer, headerStart, headerEnd, body) ??
      scanJsonCommand(buffer, headerStart, headerEnd, body);
    if (fast !== undefined) return fast;
    decoded = parseJsonHeader(buffer, headerStart, headerEnd);
  } else if (type === SerializeType.ROCKETMQ) {
    decoded = decodeBinaryHeader(buffer, headerStart, headerEnd);
  } else {
    return `unknown header serialize type ${type as number}`;
  }
  if (!decoded.ok) return decoded.error;
  const header = decoded.header;
  return {
    code: header.code,
    language: header.language,
    version: header.version,
    opaque: header.opaque,
    flag: header.flag,
    remark: header.remark,
    extFields: header.extFields,
    serializeType: type,
    body,
  };
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function parseJsonHeader(frame: Buffer, start: number, end: number): HeaderResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.toString('utf8', start, end));
  } catch (err) {
    return {
      ok: false,
      error: `undecodable JSON header: ${truncate(errorMessage(err))}`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: 'JSON header is not an object' };
  }
  const fields = parsed as Record<string, unknown>;

  const code = fields.code;
  if (!isInteger(code, INT32_MIN, INT32_MAX))
    return { ok: false, error: `JSON header code is not an int32: ${truncate(String(code))}` };

  const version = integerField(fields, 'version', INT32_MAX);
  if (typeof version === 'string') return { ok: false, error: version };
  // Some clients count opaque as unsigned; keep what they sent so the echo matches.
  const opaque = integerField(fields, 'opaque', UINT32_MAX);
  if (typeof opaque === 'string') return { ok: false, error: opaque };
  const flag = integerField(fields, 'flag', INT32_MAX);
  if (typeof flag === 'string') return { ok: false, error: flag };

  let language: string;
  const rawLanguage = fields.language;
  if (rawLanguage == null) language = 'JAVA';
  else if (typeof rawLanguage === 'string') language = rawLanguage;
  else if (isInteger(rawLanguage, 0, 255) && languageNameOf(rawLanguage) !== undefined)
    language = languageNameOf(rawLanguage)!;
  else return { ok: false, error: `JSON header language is invalid: ${truncate(JSON.stringify(rawLanguage))}` };

  let remark: string | null;
  const rawRemark = fields.remark;
  if (rawRemark == null) remark = null;
  else if (typeof rawRemark === 'string') remark = rawRemark;
  else if (typeof rawRemark === 'number' || typeof rawRemark === 'boolean') remark = String(rawRemark);
  else return { ok: false, error: 'JSON header remark is not a string' };

  let extFields: Record<string, string> | null;
  const rawExt = fields.extFields;
  if (rawExt == null) extFields = null;
  else if (typeof rawExt !== 'object' || Array.isArray(rawExt))
    return { ok: false, error: 'JSON header extFields is not an object' };
  else {
    const normalized = normalizeExtFields(rawExt as Record<string, unknown>);
    if (typeof normalized === 'string') return { ok: false, error: normalized };
    extFields = normalized;
  }

  return { ok: true, header: { code, language, version, opaque, flag, remark, extFields } };
}

/** The JSON header decoders in the order decodeFrameAt tries them; exported for tests that compare them. */
export const jsonHeaderDecodersForTests = {
  javaClientLayout: matchJavaClientHeader,
  scanner: (frame: Buffer, start: number, end: number, body: Buffer | null) => scanJsonCommand(frame, start, end, body),
  jsonParse: (frame: Buffer, start: number, end: number) => parseJsonHeader(frame, start, end),
};

/** The field's integer value (0 when absent), or an error message. */
function integerField(fields: Record<string, unknown>, name: string, max: number): number | string {
  const value = fields[name];
  if (value == null) return 0;
  if (isInteger(value, INT32_MIN, max)) return value;
  return `JSON header ${name} is not an int32: ${truncate(String(JSON.stringify(value)))}`;
}

/**
 * Header values travel as strings, but lenient senders write numbers and
 * booleans; those become their text. Null entries are dropped. The parsed
 * object is reused: JSON.parse made every key, `__proto__` included, an own
 * data property, so writing through it cannot reach a prototype.
 */
function normalizeExtFields(ext: Record<string, unknown>): Record<string, string> | string {
  for (const key of Object.keys(ext)) {
    const value = ext[key];
    if (typeof value === 'string') continue;
    if (value === null) delete ext[key];
    else if (typeof value === 'number' || typeof value === 'boolean') ext[key] = String(value);
    else return `JSON header extFields.${truncate(key)} is not a scalar`;
  }
  return ext as Record<string, string>;
}

function decodeBinaryHeader(frame: Buffer, start: number, end: number): HeaderResult {
  if (end - start < BINARY_FIXED_HEADER_LENGTH) {
    return {
      ok: false,
      error: `binary header of ${end - start} bytes is shorter than its ${BINARY_FIXED_HEADER_LENGTH} fixed bytes`,
    };
  }
  let offset = start;
  const code = frame.readInt16BE(offset);
  const languageNumber = frame.readUInt8(offset + 2);
  const version = frame.readInt16BE(offset + 3);
  const opaque = frame.readInt32BE(offset + 5);
  const flag = frame.readInt32BE(offset + 9);
  offset += 13;

  const remarkLength = frame.readInt32BE(offset);
  offset += 4;
  // The fixed part guarantees 4 more bytes (the ext length) after the remark.
  if (remarkLength < 0 || remarkLength > end - offset - 4) {
    return { ok: false, error: `binary header remark length ${remarkLength} does not fit the header` };
  }
  const remark = remarkLength === 0 ? null : frame.toString('utf8', offset, offset + remarkLength);
  offset += remarkLength;

  const extLength = frame.readInt32BE(offset);
  offset += 4;
  if (extLength < 0 || extLength !== end - offset) {
    return {
      ok: false,
      error: `binary header ext length ${extLength} does not match the ${end - offset} bytes left in the header`,
    };
  }
  let extFields: Record<string, string> | null = null;
  if (extLength > 0) {
    extFields = {};
    while (offset < end) {
      if (end - offset < 2) return { ok: false, error: 'binary header ext entry is truncated in its key length' };
      const keyLength = frame.readInt16BE(offset);
      offset += 2;
      if (keyLength < 0 || keyLength > end - offset)
        return { ok: false, error: `binary header ext key length ${keyLength} does not fit the header` };
      const key = frame.toString('utf8', offset, offset + keyLength);
      offset += keyLength;
      if (end - offset < 4) return { ok: false, error: 'binary header ext entry is truncated in its value length' };
      const valueLength = frame.readInt32BE(offset);
      offset += 4;
      if (valueLength < 0 || valueLength > end - offset)
        return { ok: false, error: `binary header ext value length ${valueLength} does not fit the header` };
      setOwnKey(extFields, key, frame.toString('utf8', offset, offset + valueLength));
      offset += valueLength;
    }
  }
  return {
    ok: true,
    header: { code, language: languageNameOf(languageNumber) ?? 'OTHER', version, opaque, flag, remark, extFields },
  };
}
