import { decodeFrameAt, FRAME_PREFIX_LENGTH, MAX_HEADER_LENGTH } from '../protocol/frameCodec.js';
import type { RemotingCommand } from './command.js';

export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

export interface FramePushResult {
  /** Commands completed by this chunk, in arrival order (also those before an error). */
  frames: RemotingCommand[];
  /** Set once the stream is unusable; the decoder then stays failed. */
  error?: string;
  /** With the first `error`: it is a frame longer than maxFrameLength (the limit, not garbage). */
  tooLong?: boolean;
}

/**
 * Splits a byte stream into commands. Validates a frame's lengths as soon as
 * its first 8 bytes arrive, so a peer cannot make it buffer a frame it would
 * refuse anyway. Decoded bodies are views into the received chunks; the
 * decoder never writes into a buffer it was given.
 */
export class FrameDecoder {
  private readonly maxFrameLength: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed before parsing is worth retrying: avoids re-joining a large frame on every chunk. */
  private needed = FRAME_PREFIX_LENGTH;
  private failure: string | undefined;

  /**
   * @param maxFrameLength cap on a whole frame including its 4-byte length
   *   word, as Netty's LengthFieldBasedFrameDecoder counts it on the Java side.
   */
  constructor(maxFrameLength = DEFAULT_MAX_FRAME_LENGTH) {
    this.maxFrameLength = maxFrameLength;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): FramePushResult {
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    if (chunk.length === 0) return { frames: [] };

    let buffer: Buffer;
    if (this.pendingBytes === 0) {
      buffer = chunk;
    } else if (this.pendingBytes + chunk.length < this.needed) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return { frames: [] };
    } else {
      this.pending.push(chunk);
      buffer = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
    }
    this.pending = [];
    this.pendingBytes = 0;

    const frames: RemotingCommand[] = [];
    let offset = 0;
    for (;;) {
      const available = buffer.length - offset;
      if (available < FRAME_PREFIX_LENGTH) {
        this.needed = FRAME_PREFIX_LENGTH;
        break;
      }
      const totalLength = buffer.readInt32BE(offset);
      const lengthError = this.checkLengths(totalLength, buffer.readUInt32BE(offset + 4) & MAX_HEADER_LENGTH);
      if (lengthError !== undefined) return this.fail(frames, lengthError, totalLength + 4 > this.maxFrameLength);
      const frameEnd = offset + 4 + totalLength;
      if (frameEnd > buffer.length) {
        this.needed = 4 + totalLength;
        break;
      }
      const decoded = decodeFrameAt(buffer, offset + 4, frameEnd);
      if (typeof decoded === 'string') return this.fail(frames, decoded);
      frames.push(decoded);
      offset = frameEnd;
    }
    if (offset < buffer.length) {
      this.pending.push(offset === 0 ? buffer : buffer.subarray(offset));
      this.pendingBytes = buffer.length - offset;
    }
    return { frames };
  }

  private checkLengths(totalLength: number, headerLength: number): string | undefined {
    if (totalLength < 4) return `frame length ${totalLength} is smaller than the 4-byte header length word`;
    if (totalLength + 4 > this.maxFrameLength) {
      return `frame length ${totalLength} exceeds the maximum frame length ${this.maxFrameLength}`;
    }
    if (headerLength > totalLength - 4) {
      return `header length ${headerLength} exceeds the frame's ${totalLength - 4} bytes after the header length word`;
    }
    return undefined;
  }

  private fail(frames: RemotingCommand[], error: string, tooLong = false): FramePushResult {
    this.failure = error;
    this.pending = [];
    this.pendingBytes = 0;
    return tooLong ? { frames, error, tooLong } : { frames, error };
  }
}
