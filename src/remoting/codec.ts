import { SerializeType, type RemotingCommand } from './command.js';
import { LanguageCode, languageCodeOf, languageNameOf } from './requestCode.js';

/*
 * Frame: int32 total length (not counting itself), int32 serializeType << 24 |
 * headerLength, header, body. All integers big endian.
 */

export type DecodeResult = { ok: true; command: RemotingCommand } | { ok: false; error: string };

/** Bytes before the header in a whole frame: the total length word and the type/header-length word. */
export const FRAME_PREFIX_LENGTH = 8;
/** The header length has 24 bits in the frame's second word. */
export const MAX_HEADER_LENGTH = 0xffffff;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
/** code, language, version, opaque, flag, remark length, ext length. */
const BINARY_FIXED_HEADER_LENGTH = 2 + 1 + 2 + 4 + 4 + 4 + 4;
const MAX_BINARY_KEY_LENGTH = 0x7fff;
/** Keeps a log line short when a peer sends a large undecodable header. */
const MAX_ERROR_DETAIL = 200;

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
  return cmd.serializeType === SerializeType.ROCKETMQ ? encodeBinaryFrame(cmd) : encodeJsonFrame(cmd);
}

function encodeJsonFrame(cmd: RemotingCommand): Buffer {
  const header = jsonHeaderText(cmd);
  const headerLength = Buffer.byteLength(header, 'utf8');
  const body = cmd.body;
  const bodyLength = body ? body.length : 0;
  const frame = allocateFrame(SerializeType.JSON, headerLength, bodyLength);
  // As many bytes as characters means pure ASCII, which the cheaper latin1 writer copies exactly.
  frame.write(header, FRAME_PREFIX_LENGTH, headerLength, headerLength === header.length ? 'latin1' : 'utf8');
  if (body && bodyLength > 0) body.copy(frame, FRAME_PREFIX_LENGTH + headerLength);
  return frame;
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
      if (keyLength > MAX_BINARY_KEY_LENGTH) throw new RangeError(`ext field key of ${keyLength} bytes exceeds ${MAX_BINARY_KEY_LENGTH}`);
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
  if (body && bodyLength > 0) body.copy(frame, offset);
  return frame;
}

function allocateFrame(type: SerializeType, headerLength: number, bodyLength: number): Buffer {
  if (headerLength > MAX_HEADER_LENGTH) throw new RangeError(`header of ${headerLength} bytes exceeds ${MAX_HEADER_LENGTH}`);
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
  if (frame.length < 4) return { ok: false, error: `frame of ${frame.length} bytes has no header length word` };
  const word = frame.readUInt32BE(0);
  const type = word >>> 24;
  const headerLength = word & MAX_HEADER_LENGTH;
  const headerEnd = 4 + headerLength;
  if (headerEnd > frame.length) {
    return { ok: false, error: `header length ${headerLength} exceeds the ${frame.length - 4} bytes after it` };
  }
  let decoded: HeaderResult;
  if (type === SerializeType.JSON) decoded = decodeJsonHeader(frame, 4, headerEnd);
  else if (type === SerializeType.ROCKETMQ) decoded = decodeBinaryHeader(frame, 4, headerEnd);
  else return { ok: false, error: `unknown header serialize type ${type}` };
  if (!decoded.ok) return decoded;
  const header = decoded.header;
  return {
    ok: true,
    command: {
      code: header.code,
      language: header.language,
      version: header.version,
      opaque: header.opaque,
      flag: header.flag,
      remark: header.remark,
      extFields: header.extFields,
      serializeType: type,
      body: headerEnd < frame.length ? frame.subarray(headerEnd) : null,
    },
  };
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_DETAIL ? `${text.slice(0, MAX_ERROR_DETAIL)}...` : text;
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function decodeJsonHeader(frame: Buffer, start: number, end: number): HeaderResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.toString('utf8', start, end));
  } catch (err) {
    return { ok: false, error: `undecodable JSON header: ${truncate(err instanceof Error ? err.message : String(err))}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: 'JSON header is not an object' };
  }
  const fields = parsed as Record<string, unknown>;

  const code = fields.code;
  if (!isInteger(code, INT32_MIN, INT32_MAX)) return { ok: false, error: `JSON header code is not an int32: ${truncate(String(code))}` };

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
  else if (isInteger(rawLanguage, 0, 255) && languageNameOf(rawLanguage) !== undefined) language = languageNameOf(rawLanguage)!;
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
  else if (typeof rawExt !== 'object' || Array.isArray(rawExt)) return { ok: false, error: 'JSON header extFields is not an object' };
  else {
    const normalized = normalizeExtFields(rawExt as Record<string, unknown>);
    if (typeof normalized === 'string') return { ok: false, error: normalized };
    extFields = normalized;
  }

  return { ok: true, header: { code, language, version, opaque, flag, remark, extFields } };
}

/** The field's integer value (0 when absent), or an error message. */
function integerField(fields: Record<string, unknown>, name: string, max: number): number | string {
  const value = fields[name];
  if (value == null) return 0;
  if (isInteger(value, INT32_MIN, max)) return value;
  return `JSON header ${name} is not an int32: ${truncate(JSON.stringify(value) ?? String(value))}`;
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
    return { ok: false, error: `binary header of ${end - start} bytes is shorter than its ${BINARY_FIXED_HEADER_LENGTH} fixed bytes` };
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
    return { ok: false, error: `binary header ext length ${extLength} does not match the ${end - offset} bytes left in the header` };
  }
  let extFields: Record<string, string> | null = null;
  if (extLength > 0) {
    extFields = {};
    while (offset < end) {
      if (end - offset < 2) return { ok: false, error: 'binary header ext entry is truncated in its key length' };
      const keyLength = frame.readInt16BE(offset);
      offset += 2;
      if (keyLength < 0 || keyLength > end - offset) return { ok: false, error: `binary header ext key length ${keyLength} does not fit the header` };
      const key = frame.toString('utf8', offset, offset + keyLength);
      offset += keyLength;
      if (end - offset < 4) return { ok: false, error: 'binary header ext entry is truncated in its value length' };
      const valueLength = frame.readInt32BE(offset);
      offset += 4;
      if (valueLength < 0 || valueLength > end - offset) return { ok: false, error: `binary header ext value length ${valueLength} does not fit the header` };
      setOwn(extFields, key, frame.toString('utf8', offset, offset + valueLength));
      offset += valueLength;
    }
  }
  return {
    ok: true,
    header: { code, language: languageNameOf(languageNumber) ?? 'OTHER', version, opaque, flag, remark, extFields },
  };
}

function setOwn(target: Record<string, string>, key: string, value: string): void {
  // Plain assignment of "__proto__" would replace the object's prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
