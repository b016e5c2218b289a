/**
 * Java `.properties` text, read with the rules of java.util.Properties.load so
 * that files written for (or by) the Java name server mean the same thing
 * here, and written so that Java reads back exactly what we meant.
 */

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts (continuations add lines after it). */
  line: number;
}

export interface PropertiesError {
  line: number;
  message: string;
}

export type ParsePropertiesResult =
  | {
      ok: true;
      /** Every entry in file order, duplicates included (useful for diagnostics). */
      entries: PropertyEntry[];
      /** The effective mapping: a repeated key keeps its last value, as in Java. */
      values: Map<string, string>;
    }
  | { ok: false; errors: PropertiesError[] };

const WHITESPACE = new Set([' ', '\t', '\f']);

export function parseProperties(text: string): ParsePropertiesResult {
  const physical = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  const errors: PropertiesError[] = [];

  let i = 0;
  while (i < physical.length) {
    const startLine = i + 1;
    let current = stripLeadingWhitespace(physical[i++]!);
    if (current === '') continue;
    // Only the first line of an entry can be a comment; a continued line that
    // happens to start with # is data.
    if (current[0] === '#' || current[0] === '!') continue;

    let logical = '';
    for (;;) {
      if (!endsWithOddBackslashes(current)) {
        logical += current;
        break;
      }
      logical += current.slice(0, -1);
      // A continuation at end of input just ends the entry, as in Java.
      if (i >= physical.length) break;
      current = stripLeadingWhitespace(physical[i++]!);
    }

    const split = splitKeyValue(logical);
    const key = unescape(split.key);
    const value = unescape(split.value);
    if (!key.ok || !value.ok) {
      errors.push({ line: startLine, message: (!key.ok ? key.message : '') || (!value.ok ? value.message : '') });
      continue;
    }
    entries.push({ key: key.text, value: value.text, line: startLine });
  }

  if (errors.length > 0) return { ok: false, errors };
  const values = new Map<string, string>();
  for (const entry of entries) values.set(entry.key, entry.value);
  return { ok: true, entries, values };
}

function stripLeadingWhitespace(line: string): string {
  let start = 0;
  while (start < line.length && WHITESPACE.has(line[start]!)) start++;
  return line.slice(start);
}

function endsWithOddBackslashes(line: string): boolean {
  let count = 0;
  for (let j = line.length - 1; j >= 0 && line[j] === '\\'; j--) count++;
  return count % 2 === 1;
}

/** Key ends at the first unescaped `=`, `:` or whitespace; one separator may follow whitespace. */
function splitKeyValue(logical: string): { key: string; value: string } {
  let keyEnd = 0;
  let hasSeparator = false;
  let escaped = false;
  while (keyEnd < logical.length) {
    const c = logical[keyEnd]!;
    if (escaped) {
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === '=' || c === ':') {
      hasSeparator = true;
      break;
    } else if (WHITESPACE.has(c)) {
      break;
    }
    keyEnd++;
  }
  let valueStart = hasSeparator ? keyEnd + 1 : keyEnd;
  while (valueStart < logical.length) {
    const c = logical[valueStart]!;
    if (WHITESPACE.has(c)) {
      valueStart++;
    } else if (!hasSeparator && (c === '=' || c === ':')) {
      hasSeparator = true;
      valueStart++;
    } else {
      break;
    }
  }
  return { key: logical.slice(0, keyEnd), value: logical.slice(valueStart) };
}

function unescape(raw: string): { ok: true; text: string } | { ok: false; message: string } {
  if (!raw.includes('\\')) return { ok: true, text: raw };
  let out = '';
  for (let j = 0; j < raw.length; j++) {
    const c = raw[j]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    j++;
    // A lone trailing backslash can only come from a continuation at end of
    // input, which Java drops.
    if (j >= raw.length) break;
    const e = raw[j]!;
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = raw.slice(j + 1, j + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          return { ok: false, message: `malformed \\uXXXX escape "\\u${hex}" (needs four hex digits)` };
        }
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
        break;
      }
      default:
        out += e;
    }
  }
  return { ok: true, text: out };
}

/**
 * `key=value` lines, one per entry, in the order given. Escapes only what
 * would otherwise change meaning (backslashes, line breaks, separators in keys,
 * a leading blank or comment marker) and writes non-ASCII as \uXXXX, because
 * Java reads property bytes as ISO-8859-1. Plain values come out byte for byte
 * as the Java name server prints them.
 */
export function formatProperties(entries: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [key, value] of entries) {
    out += `${escapeText(key, true)}=${escapeText(value, false)}\n`;
  }
  return out;
}

function escapeText(text: string, isKey: boolean): string {
  let out = '';
  for (let j = 0; j < text.length; j++) {
    const c = text[j]!;
    const code = c.charCodeAt(0);
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (c === ' ' && (isKey || j === 0)) out += '\\ ';
    else if (isKey && (c === '=' || c === ':')) out += `\\${c}`;
    else if (isKey && j === 0 && (c === '#' || c === '!')) out += `\\${c}`;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out;
}
