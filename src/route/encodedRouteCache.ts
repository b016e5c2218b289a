/**
 * The encoded route cache: route bodies as the bytes a GET_ROUTEINFO_BY_TOPIC
 * answer carries, by topic, so a read is a map lookup. The route table keeps
 * one per JSON style and drops a topic's entry in the same step that changes
 * its route (routeChanges.ts).
 */

/** Memory that holds cached encodings: a shared slab, or one route's own buffer. */
interface Slab {
  size: number;
  /** Bytes of it still holding cached entries. */
  live: number;
}

const SLAB_BYTES = 64 * 1024;

/**
 * Encoded bodies by topic, bounded in bytes; the oldest entry goes first.
 *
 * Encodings are carved out of 64 KiB slabs rather than given an ArrayBuffer
 * each: when a registration invalidates thousands of routes at once, reads
 * re-encode them, and allocating (and later sweeping) that many small
 * ArrayBuffers stalls the event loop for tens of milliseconds under load. A
 * slab is released when its last entry goes; the byte bound counts every slab
 * held whole, so it bounds memory, not just encoded bytes. Small budgets
 * (under 64 slabs) use an exact buffer per entry.
 */
export class EncodedRouteCache {
  private readonly entries = new Map<string, Buffer>();
  /** The memory behind each entry, by its ArrayBuffer (read only when an entry goes). */
  private readonly slabs = new Map<ArrayBufferLike, Slab>();
  /** Bytes held: every slab with a live entry, whole. */
  private bytes = 0;
  private slab: Slab | undefined;
  private slabBuffer: Buffer | undefined;
  private slabUsed = 0;

  constructor(private maxBytes: number) {}

  get(key: string): Buffer | undefined {
    return this.entries.get(key);
  }

  /** Caches `text` (ASCII when `ascii`, else written as UTF-8) and returns its bytes. */
  put(key: string, text: string, ascii: boolean): Buffer {
    this.delete(key);
    const length = ascii ? text.length : Buffer.byteLength(text, 'utf8');
    const useSlabs = this.maxBytes >= 64 * SLAB_BYTES && length <= SLAB_BYTES / 4;
    const cost = useSlabs ? (this.slab !== undefined && this.slabUsed + length <= SLAB_BYTES ? 0 : SLAB_BYTES) : length;
    if (cost > this.maxBytes) return encodeOwned(text, length, ascii);
    while (this.bytes + cost > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    let buf: Buffer;
    let slab: Slab;
    if (useSlabs) {
      if (this.slab === undefined || this.slabUsed + length > SLAB_BYTES) {
        this.retireSlab();
        this.slab = { size: SLAB_BYTES, live: 0 };
        this.slabBuffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabs.set(this.slabBuffer.buffer, this.slab);
        this.slabUsed = 0;
        this.bytes += SLAB_BYTES;
      }
      slab = this.slab;
      buf = this.slabBuffer!.subarray(this.slabUsed, this.slabUsed + length);
      buf.write(text, 0, length, ascii ? 'latin1' : 'utf8');
      // Keep entries 8-byte aligned within the slab.
      this.slabUsed += (length + 7) & ~7;
    } else {
      buf = encodeOwned(text, length, ascii);
      slab = { size: length, live: 0 };
      this.slabs.set(buf.buffer, slab);
      this.bytes += length;
    }
    slab.live += length;
    this.entries.set(key, buf);
    return buf;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    const slab = this.slabs.get(old.buffer)!;
    slab.live -= old.length;
    if (slab.live === 0 && slab !== this.slab) this.release(old.buffer, slab);
  }

  private release(memory: ArrayBufferLike, slab: Slab): void {
    this.slabs.delete(memory);
    this.bytes -= slab.size;
  }

  clear(): void {
    this.entries.clear();
    this.slabs.clear();
    this.bytes = 0;
    this.slab = undefined;
    this.slabBuffer = undefined;
    this.slabUsed = 0;
  }

  /** The current slab takes no more entries; it is released with its last one. */
  private retireSlab(): void {
    const slab = this.slab;
    const memory = this.slabBuffer?.buffer;
    if (slab === undefined || memory === undefined) return;
    this.slab = undefined;
    this.slabBuffer = undefined;
    if (slab.live === 0) this.release(memory, slab);
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}

/** A buffer of exactly `text`'s bytes that shares memory with nothing else. */
function encodeOwned(text: string, length: number, ascii: boolean): Buffer {
  const buf = Buffer.allocUnsafeSlow(length);
  buf.write(text, 0, length, ascii ? 'latin1' : 'utf8');
  return buf;
}
