import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueCodes } from '../../src/route/queueCodes.js';

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const small = fc.record({
  read: fc.integer({ min: 0, max: 4095 }),
  write: fc.integer({ min: 0, max: 4095 }),
  perm: fc.integer({ min: 0, max: 15 }),
  sysFlag: fc.integer({ min: 0, max: 3 }),
});
const any = fc.record({ read: int32, write: int32, perm: int32, sysFlag: int32 });

describe('queue codes', () => {
  it('give back every field of the queue data they encode', () => {
    const codes = new QueueCodes();
    fc.assert(
      fc.property(fc.oneof(small, any), ({ read, write, perm, sysFlag }) => {
        const code = codes.encode(read, write, perm, sysFlag);
        expect([codes.read(code), codes.write(code), codes.perm(code), codes.sysFlag(code)]).toEqual([
          read,
          write,
          perm,
          sysFlag,
        ]);
        expect(codes.encode(read, write, perm, sysFlag)).toBe(code);
      }),
    );
  });

  it('pack common queue data into a non-negative small integer, and intern the rest', () => {
    const codes = new QueueCodes();
    fc.assert(
      fc.property(small, ({ read, write, perm, sysFlag }) => {
        const code = codes.encode(read, write, perm, sysFlag);
        expect(code).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(code) && code <= 0x3fffffff).toBe(true);
      }),
    );
    const big = codes.encode(8, 8, 6, 4);
    expect(big).toBeLessThan(0);
    expect(codes.encode(5000, 8, 6, 0)).toBeLessThan(0);
    expect(codes.encode(8, 8, 6, 4)).toBe(big);
    expect(codes.encode(-1, 8, 6, 0)).not.toBe(big);
  });

  it('change only the perm with withPerm', () => {
    const codes = new QueueCodes();
    fc.assert(
      fc.property(fc.oneof(small, any), fc.oneof(fc.integer({ min: 0, max: 15 }), int32), (q, perm) => {
        const code = codes.withPerm(codes.encode(q.read, q.write, q.perm, q.sysFlag), perm);
        expect(code).toBe(codes.encode(q.read, q.write, perm, q.sysFlag));
      }),
    );
  });
});
