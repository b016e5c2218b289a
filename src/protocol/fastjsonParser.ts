/**
 * Reads JSON as Java's fastjson writes it. Brokers' bodies are standard JSON
 * except where a map has Integer keys (static-topic `currIdMap`,
 * `hostedQueues`), which fastjson writes bare: `{0:1}`. JSON.parse takes the
 * common case; only when it refuses does the slower parser here run, which
 * also accepts bare keys. Never throws; nesting is bounded so hostile input
 * cannot exhaust the stack.
 */

import { setOwnKey } from '../util/ownKey.js';
import { errorMessage } from '../util/errorMessage.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

const MAX_DEPTH = 512;

export function parseFastjsonText(text: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // fall through to the lenient reader
  }
  try {
    const parser = new LenientParser(text);
    const value = parser.parseDocument();
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

class ParseError extends Error {}

function isBareKeyChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 95 || // _
    c === 36 || // $
    c === 45 || // -
    c === 43 || // +
    c === 46 // .
  );
}

class LenientParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWs();
    if (this.pos !== this.text.length) this.fail('unexpected trailing characters');
    return value;
  }

  private fail(message: string): never {
    throw new ParseError(`${message} at position ${this.pos}`);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  private parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.skipWs();
    const c = this.text.charCodeAt(this.pos);
    if (c === 123) return this.parseObject(depth + 1);
    if (c === 91) return this.parseArray(depth + 1);
    if (c === 34) return this.parseString();
    if (c === 45 || (c >= 48 && c <= 57)) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      const key = this.parseKey();
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 58) this.fail("expected ':'");
      this.pos++;
      setOwnKey(out, key, this.parseValue(depth));
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 44) continue;
      if (c === 125) return out;
      this.pos--;
      this.fail("expected ',' or '}'");
    }
  }

  private parseKey(): string {
    if (this.text.charCodeAt(this.pos) === 34) return this.parseString();
    const start = this.pos;
    while (this.pos < this.text.length && isBareKeyChar(this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail('expected a key');
    return this.text.slice(start, this.pos);
  }

  private parseArray(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth));
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 44) continue;
      if (c === 93) return out;
      this.pos--;
      this.fail("expected ',' or ']'");
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos; // at the opening quote
    let i = start + 1;
    let escaped = false;
    for (;;) {
      if (i >= t.length) {
        this.pos = i;
        this.fail('unterminated string');
      }
      const c = t.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 32) {
        this.pos = i;
        this.fail('control character in string');
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return t.slice(start + 1, i);
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail('bad escape in string');
    }
  }

  private parseNumber(): number {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) === 45) this.pos++;
    const digitsFrom = this.pos;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45) this.pos++;
      else break;
    }
    if (this.pos === digitsFrom) this.fail('bad number');
    const value = Number(t.slice(start, this.pos));
    if (Number.isNaN(value)) {
      this.pos = start;
      this.fail('bad number');
    }
    return value;
  }
}
