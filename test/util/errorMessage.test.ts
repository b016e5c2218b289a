import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/util/errorMessage.js';

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
});
