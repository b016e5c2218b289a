import { Socket } from 'node:net';

/**
 * Counts this process's socket writes (and their bytes) by wrapping
 * Socket#write; take() returns the counts since the last take(). Answers per
 * write is how well a server batched its answers. Bench processes only.
 */
export function countSocketWrites(): { take(): { writes: number; bytes: number } } {
  const counter = { writes: 0, bytes: 0 };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called back below with the socket as `this`.
  const original = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    counter.writes++;
    if (chunk instanceof Uint8Array) counter.bytes += chunk.length;
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  return {
    take() {
      const taken = { ...counter };
      counter.writes = 0;
      counter.bytes = 0;
      return taken;
    },
  };
}
