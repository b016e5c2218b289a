import { describe, expect, it } from 'vitest';
import { truncate } from '../../src/util/truncate.js';

describe('truncate', () => {
  it('leaves a text of at most the limit as it is', () => {
    expect(truncate('short')).toBe('short');
    expect(truncate('x'.repeat(200))).toBe('x'.repeat(200));
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts a longer text at the limit and marks the cut', () => {
    expect(truncate('x'.repeat(201))).toBe(`${'x'.repeat(200)}...`);
    expect(truncate('abcdef', 3)).toBe('abc...');
  });
});
