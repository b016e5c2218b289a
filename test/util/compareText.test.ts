import { describe, expect, it } from 'vitest';
import { compareText } from '../../src/util/compareText.js';

describe('compareText', () => {
  it('orders by code unit: upper case before lower case, digits before letters', () => {
    expect(['b', 'B', 'a', '10', '9', '_x', '%y'].sort(compareText)).toEqual(['%y', '10', '9', 'B', '_x', 'a', 'b']);
  });

  it('is zero only for equal strings', () => {
    expect(compareText('TopicA', 'TopicA')).toBe(0);
    expect(compareText('TopicA', 'TopicB')).toBe(-1);
    expect(compareText('TopicB', 'TopicA')).toBe(1);
  });
});
