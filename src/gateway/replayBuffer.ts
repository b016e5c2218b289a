/**
 * A bounded ring of the most recent stream messages, by sequence number, so a
 * reconnecting client can resume where it left off. A client whose last seen
 * sequence has already fallen out gets an explicit reset, never a silent gap.
 */
export interface Sequenced {
  seq: number;
}

export type ReplayResult<T> = { kind: 'replay'; messages: T[] } | { kind: 'gap'; oldestAvailable: number };

export class ReplayBuffer<T extends Sequenced> {
  private readonly ring: Array<T | undefined>;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`replay buffer capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<T | undefined>(capacity);
  }

  push(message: T): void {
    if (this.size < this.capacity) {
      this.ring[(this.start + this.size) % this.capacity] = message;
      this.size++;
    } else {
      this.ring[this.start] = message;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  get length(): number {
    return this.size;
  }

  /** Everything after `lastSeen`; a gap when messages after it were dropped. */
  after(lastSeen: number, currentSeq: number): ReplayResult<T> {
    if (lastSeen >= currentSeq) return { kind: 'replay', messages: [] };
    const oldest = this.size > 0 ? this.ring[this.start]!.seq : currentSeq + 1;
    if (lastSeen + 1 < oldest) return { kind: 'gap', oldestAvailable: oldest };
    const messages: T[] = [];
    for (let i = 0; i < this.size; i++) {
      const message = this.ring[(this.start + i) % this.capacity]!;
      if (message.seq > lastSeen) messages.push(message);
    }
    return { kind: 'replay', messages };
  }
}
