import { describe, expect, it } from 'vitest';
import { errorWithClass, errorWithCode } from '../../src/util/errorMessage.js';

describe('errorWithClass', () => {
  it("puts an Error's class before its message, as Java's remark names the exception", () => {
    expect(errorWithClass(new TypeError('bad topic'))).toBe('TypeError: bad topic');
    expect(errorWithClass('thrown text')).toBe('thrown text');
  });
});

describe('errorWithCode', () => {
  it('leads with the system error code unless the message already carries it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(errorWithCode(refused)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    const ws = Object.assign(new Error('Invalid WebSocket frame'), { code: 'WS_ERR_INVALID_OPCODE' });
    expect(errorWithCode(ws)).toBe('WS_ERR_INVALID_OPCODE: Invalid WebSocket frame');
    expect(errorWithCode(new Error('plain'))).toBe('plain');
    expect(errorWithCode(42)).toBe('42');
  });
});
