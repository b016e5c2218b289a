import { createHash, timingSafeEqual } from 'node:crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Checks presented gateway tokens. Both sides are hashed first so the
 * comparison is constant-time and equal-length whatever was presented:
 * neither the token's content nor its length leaks through timing.
 */
export class TokenVerifier {
  private readonly expected: Buffer | undefined;

  constructor(token: string) {
    this.expected = token === '' ? undefined : digest(token);
  }

  /** With no token configured, control operations are refused to everyone. */
  get configured(): boolean {
    return this.expected !== undefined;
  }

  verify(presented: string): boolean {
    if (!this.expected) return false;
    return timingSafeEqual(digest(presented), this.expected);
  }
}

export type BearerHeader = { kind: 'absent' } | { kind: 'malformed' } | { kind: 'token'; token: string };

/** Reads an `Authorization: Bearer <token>` header. */
export function readBearer(header: string | undefined): BearerHeader {
  if (header === undefined) return { kind: 'absent' };
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? { kind: 'token', token: match[1]! } : { kind: 'malformed' };
}
