import { describe, expect, it } from 'vitest';
import { errorMessage, errorStack } from '../../src/util/errorMessage.js';

describe('errorMessage', () => {
  it("gives an Error's message without its name or stack", () => {
    expect(errorMessage(new TypeError('bad frame'))).toBe('bad frame');
  });

  it('gives the message of an Error subclass', () => {
    class StartError extends Error {}
    expect(errorMessage(new StartError('port in use'))).toBe('port in use');
  });

  it('turns any other thrown value into a string', () => {
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(null)).toBe('null');
  });

  it('gives the parts of an AggregateError that has no message of its own', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const err = Object.assign(new AggregateError([refused('::1:9876'), refused('127.0.0.1:9876')]), {
      code: 'ECONNREFUSED',
    });
    expect(errorMessage(err)).toBe('connect ECONNREFUSED ::1:9876; connect ECONNREFUSED 127.0.0.1:9876');
  });

  it('names an Error with an empty message by its code, else by its class', () => {
    expect(errorMessage(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorMessage(new RangeError())).toBe('RangeError');
  });

  it('keeps the message of an AggregateError that has one', () => {
    expect(errorMessage(new AggregateError([new Error('a')], 'two attempts failed'))).toBe('two attempts failed');
  });
});

describe('errorStack', () => {
  it("gives an Error's stack, which names the error and where it was thrown", () => {
    const err = new TypeError('bad frame');
    expect(errorStack(err)).toBe(err.stack);
    expect(errorStack(err)).toMatch(/^TypeError: bad frame\n\s+at /);
  });

  it('falls back to errorMessage without a stack', () => {
    const err = new Error('no stack');
    delete err.stack;
    expect(errorStack(err)).toBe('no stack');
    expect(errorStack(7)).toBe('7');
  });
});
