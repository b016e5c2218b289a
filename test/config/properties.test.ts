import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProperties, parseProperties } from '../../src/config/properties.js';

function values(text: string): Record<string, string> {
  const parsed = parseProperties(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return Object.fromEntries(parsed.values);
}

describe('parseProperties (java.util.Properties.load rules)', () => {
  it('skips comments and blank lines, including indented ones', () => {
    expect(values('# a comment\n  ! another\n\n\t\na=1\n   # still a comment\n')).toEqual({ a: '1' });
  });

  it('accepts =, : and whitespace as separators', () => {
    expect(values('a=1\nb:2\nc 3\nd   =   4\ne\t:\t5\nf = 6 = 7\ng :=x\n')).toEqual({
      a: '1',
      b: '2',
      c: '3',
      d: '4',
      e: '5',
      f: '6 = 7',
      g: '=x',
    });
  });

  it('reads a key alone as an empty value and keeps trailing blanks of values', () => {
    expect(values('lonely\nkey=\nspaced=v  \n')).toEqual({ lonely: '', key: '', spaced: 'v  ' });
  });

  it("joins continuation lines, dropping the next line's indentation", () => {
    expect(values('list=a,\\\n     b,\\\n\tc\nnext=1\n')).toEqual({ list: 'a,b,c', next: '1' });
  });

  it('treats an even run of trailing backslashes as escaped backslashes, not a continuation', () => {
    expect(values('path=C:\\\\dir\\\\\nnext=1\n')).toEqual({ path: 'C:\\dir\\', next: '1' });
  });

  it('keeps a continued line starting with # as data, and never continues a comment', () => {
    expect(values('a=1\\\n#not a comment\n# comment \\\nb=2\n')).toEqual({ a: '1#not a comment', b: '2' });
  });

  it('drops a continuation backslash at end of input', () => {
    expect(values('a=1\\')).toEqual({ a: '1' });
  });

  it('decodes escapes in keys and values', () => {
    expect(values('k\\=ey\\:x\\ y=\\u0041\\t\\n\\r\\f\\q\\\\\nlead=\\  two\n')).toEqual({
      'k=ey:x y': 'A\t\n\r\fq\\',
      lead: '  two',
    });
  });

  it('handles CRLF and CR line endings', () => {
    expect(values('a=1\r\nb=2\rc=3')).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('lets the last of a repeated key win and keeps every entry with its line', () => {
    const parsed = parseProperties('a=1\n\nb=2\na=3\n');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.values.get('a')).toBe('3');
    expect(parsed.entries).toEqual([
      { key: 'a', value: '1', line: 1 },
      { key: 'b', value: '2', line: 3 },
      { key: 'a', value: '3', line: 4 },
    ]);
  });

  it('reports a malformed \\u escape as an error value with its line', () => {
    const parsed = parseProperties('ok=1\nbad=\\u12G4\n');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]!.line).toBe(2);
    expect(parsed.errors[0]!.message).toMatch(/\\uXXXX/);
  });

  it('numbers a continued entry by its first line', () => {
    const parsed = parseProperties('a=1\\\n2\nb=\\u00\n');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors[0]!.line).toBe(3);
  });
});

describe('formatProperties', () => {
  it('writes plain entries exactly as the Java name server prints them', () => {
    expect(
      formatProperties([
        ['listenPort', '9876'],
        ['configBlackList', 'configBlackList;configStorePath;kvConfigPath'],
      ]),
    ).toBe('listenPort=9876\nconfigBlackList=configBlackList;configStorePath;kvConfigPath\n');
  });

  it('escapes what would change meaning and writes non-ASCII as \\uXXXX', () => {
    expect(formatProperties([['a b=c:d', ' lead\\x\nnon-ascii é']])).toBe(
      'a\\ b\\=c\\:d=\\ lead\\\\x\\nnon-ascii \\u00e9\n',
    );
    expect(formatProperties([['#k', 'v']])).toBe('\\#k=v\n');
  });

  it('round-trips any key and value through parseProperties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { maxLength: 8 }),
        (pairs) => {
          const text = formatProperties(pairs);
          const parsed = parseProperties(text);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          expect(parsed.entries.map((e) => [e.key, e.value])).toEqual(pairs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
