/**
 * Queue data as one small integer. Most (read, write, perm, sysFlag) fit 12,
 * 12, 4 and 2 bits and are packed into a non-negative small integer, which V8
 * stores unboxed in a Map; any other combination is interned and referenced by
 * a negative id. Equal queue data always gets the same code.
 */
export class QueueCodes {
  private readonly tuples: number[] = [];
  private readonly ids = new Map<string, number>();

  encode(read: number, write: number, perm: number, sysFlag: number): number {
    if (
      read >= 0 &&
      read <= 4095 &&
      Number.isInteger(read) &&
      write >= 0 &&
      write <= 4095 &&
      Number.isInteger(write) &&
      perm >= 0 &&
      perm <= 15 &&
      Number.isInteger(perm) &&
      sysFlag >= 0 &&
      sysFlag <= 3 &&
      Number.isInteger(sysFlag)
    ) {
      return (read << 18) | (write << 6) | (perm << 2) | sysFlag;
    }
    const key = `${read},${write},${perm},${sysFlag}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.tuples.length / 4;
      this.tuples.push(read, write, perm, sysFlag);
      this.ids.set(key, id);
    }
    return -(id + 1);
  }

  read(code: number): number {
    return code >= 0 ? code >>> 18 : this.tuples[(-code - 1) * 4]!;
  }

  write(code: number): number {
    return code >= 0 ? (code >>> 6) & 4095 : this.tuples[(-code - 1) * 4 + 1]!;
  }

  perm(code: number): number {
    return code >= 0 ? (code >>> 2) & 15 : this.tuples[(-code - 1) * 4 + 2]!;
  }

  sysFlag(code: number): number {
    return code >= 0 ? code & 3 : this.tuples[(-code - 1) * 4 + 3]!;
  }

  withPerm(code: number, perm: number): number {
    return this.encode(this.read(code), this.write(code), perm, this.sysFlag(code));
  }
}
