import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { optionValue, type OptionToken } from '../../src/util/optionValue.js';

/** The first option token parseArgs (non-strict) makes of these arguments. */
function tokenOf(args: string[], type: 'string' | 'boolean'): OptionToken {
  const { tokens } = parseArgs({
    args,
    options: { topic: { type, short: 't' }, other: { type: 'string', short: 'n' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const token = tokens.find((t) => t.kind === 'option');
  if (token?.kind !== 'option') throw new Error(`no option in ${args.join(' ')}`);
  return token;
}

describe('optionValue', () => {
  it('gives a string option its value, written apart or with =', () => {
    expect(optionValue(tokenOf(['-t', 'TopicA'], 'string'), 'string', 'option', '-t')).toEqual({
      ok: true,
      value: 'TopicA',
    });
    expect(optionValue(tokenOf(['--topic=TopicA'], 'string'), 'string', 'option', '--topic')).toEqual({
      ok: true,
      value: 'TopicA',
    });
  });

  it('gives a boolean true, and refuses it a value', () => {
    expect(optionValue(tokenOf(['--topic'], 'boolean'), 'boolean', 'flag', '--topic')).toEqual({
      ok: true,
      value: true,
    });
    expect(optionValue(tokenOf(['--topic=yes'], 'boolean'), 'boolean', 'flag', '--topic')).toEqual({
      ok: false,
      error: 'flag --topic takes no value',
    });
  });

  it('refuses a string option with nothing after it', () => {
    expect(optionValue(tokenOf(['-t'], 'string'), 'string', 'option', '-t')).toEqual({
      ok: false,
      error: 'option -t needs a value',
    });
  });

  it('refuses to take the next option as the value, and says how to mean it', () => {
    expect(optionValue(tokenOf(['-t', '-n', 'x'], 'string'), 'string', 'option', '-t')).toEqual({
      ok: false,
      error: 'option -t needs a value, got the option -n (write -t=-n if that is the value)',
    });
    expect(optionValue(tokenOf(['--topic=-n'], 'string'), 'string', 'option', '--topic')).toEqual({
      ok: true,
      value: '-n',
    });
    expect(optionValue(tokenOf(['-t', '-1'], 'string'), 'string', 'option', '-t')).toEqual({ ok: true, value: '-1' });
  });
});
