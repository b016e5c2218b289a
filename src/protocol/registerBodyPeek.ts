/**
 * The cheap look at a REGISTER_BROKER body: its DataVersion and filter server
 * list without decoding its topics (registerBody.ts decodes all of it). An
 * unchanged re-registration, the common case, costs a checksum and this peek.
 */
import { inflateSync } from 'node:zlib';
import { parseFastjsonText } from './fastjsonParser.js';
import {
  DEFAULT_MAX_INFLATED_BYTES,
  isObject,
  PartReader,
  readCompressedFilterServers,
  readDataVersion,
} from './registerBody.js';
import type { DataVersion } from './types.js';

export interface RegisterBodyPeek {
  dataVersion: DataVersion;
  filterServerList: string[] | null;
}

class PrefixScanner {
  pos = 0;
  constructor(readonly text: string) {}

  ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else return;
    }
  }

  char(c: string): boolean {
    this.ws();
    if (this.text[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  string(): string | undefined {
    this.ws();
    if (this.text.charCodeAt(this.pos) !== 34) return undefined;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      if (i >= this.text.length) return undefined;
      const c = this.text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return this.text.slice(start + 1, i);
    try {
      return JSON.parse(this.text.slice(start, i + 1)) as string;
    } catch {
      return undefined;
    }
  }

  key(name: string): boolean {
    const k = this.string();
    return k === name && this.char(':');
  }

  integer(): number | undefined {
    this.ws();
    const m = /^-?\d{1,19}/.exec(this.text.slice(this.pos, this.pos + 21));
    if (!m) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

function peekJsonPrefix(text: string): RegisterBodyPeek | undefined {
  const s = new PrefixScanner(text);
  if (!s.char('{') || !s.key('filterServerList')) return undefined;
  let filterServerList: string[] | null;
  s.ws();
  if (text.startsWith('null', s.pos)) {
    s.pos += 4;
    filterServerList = null;
  } else {
    if (!s.char('[')) return undefined;
    filterServerList = [];
    if (!s.char(']')) {
      for (;;) {
        const item = s.string();
        if (item === undefined) return undefined;
        filterServerList.push(item);
        if (s.char(']')) break;
        if (!s.char(',')) return undefined;
      }
    }
  }
  if (!s.char(',') || !s.key('topicConfigSerializeWrapper') || !s.char('{') || !s.key('dataVersion') || !s.char('{')) {
    return undefined;
  }
  const fields: Record<string, number> = {};
  if (!s.char('}')) {
    for (;;) {
      const k = s.string();
      if (k !== 'counter' && k !== 'stateVersion' && k !== 'timestamp') return undefined;
      if (!s.char(':')) return undefined;
      const v = s.integer();
      if (v === undefined || fields[k] !== undefined) return undefined;
      fields[k] = v;
      if (s.char('}')) break;
      if (!s.char(',')) return undefined;
    }
  }
  if (fields.timestamp === undefined) return undefined;
  const dataVersion: DataVersion =
    fields.stateVersion === undefined
      ? { counter: fields.counter ?? 0, timestamp: fields.timestamp }
      : { counter: fields.counter ?? 0, stateVersion: fields.stateVersion, timestamp: fields.timestamp };
  return { dataVersion, filterServerList };
}

const PEEK_WINDOWS = [1024, 16 * 1024, 256 * 1024];

function peekCompressed(body: Buffer, maxInflatedBytes: number): RegisterBodyPeek | undefined {
  try {
    // Inflating is native and fast; what a full decode costs is turning every
    // topic into objects, which this skips by length prefixes.
    const reader = new PartReader(inflateSync(body, { maxOutputLength: maxInflatedBytes }));
    const dv = parseFastjsonText(reader.bytes('dataVersion').toString('utf8'));
    if (!dv.ok || !isObject(dv.value)) return undefined;
    const dataVersion = readDataVersion(dv.value, 0);
    if (dv.value.timestamp === undefined || dv.value.timestamp === null) return undefined;
    const topics = reader.count('topic count');
    for (let i = 0; i < topics; i++) reader.skip('topic config');
    return { dataVersion, filterServerList: readCompressedFilterServers(reader.bytes('filter server list')) };
  } catch {
    return undefined;
  }
}

/**
 * Reads only the DataVersion and filter server list of a register body.
 * fastjson sorts fields, so a JSON body starts with
 * `{"filterServerList":[...],"topicConfigSerializeWrapper":{"dataVersion":{...}`
 * and this looks at no more than that prefix. Returns undefined when the body
 * does not have that shape; the caller then decodes it fully. It does not
 * validate the rest of the body.
 */
export function peekRegisterBody(
  body: Buffer,
  options: { compressed?: boolean; maxInflatedBytes?: number } = {},
): RegisterBodyPeek | undefined {
  if (options.compressed) return peekCompressed(body, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES);
  for (const window of PEEK_WINDOWS) {
    const end = Math.min(window, body.length);
    const peek = peekJsonPrefix(body.toString('utf8', 0, end));
    if (peek || end === body.length) return peek;
  }
  return undefined;
}
