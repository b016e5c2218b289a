import { describe, expect, it } from 'vitest';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';

describe('reading fastjson text', () => {
  it('accepts bare integer keys that JSON.parse refuses', () => {
    expect(parseFastjsonText('{"brokerAddrs":{0:"a",-1:"b"},"x":[1,2.5e3,true,false,null,"\\u00e9"]}')).toEqual({
      ok: true,
      value: { brokerAddrs: { '0': 'a', '-1': 'b' }, x: [1, 2500, true, false, null, '\u00e9'] },
    });
  });

  it('refuses broken text without throwing, including very deep nesting', () => {
    for (const bad of ['{0:}', '{"a" 1}', '[1,', '{"a":"b', '{a:1,}', '"\u0001"', '{0:1} x', '['.repeat(100000)]) {
      expect(parseFastjsonText(bad).ok).toBe(false);
    }
  });

  it('keeps "__proto__" as a plain key', () => {
    const parsed = parseFastjsonText('{0:1,"__proto__":{"polluted":true}}');
    expect(parsed.ok).toBe(true);
    const value = (parsed as { value: Record<string, unknown> }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['0', '__proto__']);
  });
});
