import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ServerClock } from '../clock.js';
import type { ConfigKey } from '../config/schema.js';

export interface WatchedFile {
  readonly key: ConfigKey;
  readonly path: string;
}

export interface CertificateWatcherOptions {
  clock: Pick<ServerClock, 'setTimeout' | 'clearTimeout'>;
  files: readonly WatchedFile[];
  /** Java's FileWatchService polls every 500 ms. */
  intervalMs?: number;
  /** Called with the files whose content changed since the last poll. */
  onChange(changed: readonly WatchedFile[]): void;
  logger: Pick<Logger, 'error'>;
}

export const CERTIFICATE_POLL_INTERVAL_MS = 500;

/**
 * Polls certificate files by the hash of their content, as Java's
 * FileWatchService does, on the server's clock (tests drive it with a
 * SimulatedClock). Content, not modification time: a file rewritten with the
 * same bytes is no change, and a Kubernetes secret's symlink swap is one. A
 * file that is missing or unreadable keeps its last hash, so renewing a CA by
 * delete-then-copy is one change, not two. The files are a few kilobytes,
 * read synchronously: an asynchronous read would make every poll a race with
 * the next one for no measurable gain.
 */
export class CertificateWatcher {
  private readonly hashes = new Map<WatchedFile, string | undefined>();
  private readonly intervalMs: number;
  private timer: unknown;
  private running = false;

  constructor(private readonly options: CertificateWatcherOptions) {
    this.intervalMs = options.intervalMs ?? CERTIFICATE_POLL_INTERVAL_MS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const file of this.options.files) this.hashes.set(file, hashOf(file.path));
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.poll();
      this.schedule();
    }, this.intervalMs);
  }

  private poll(): void {
    const changed: WatchedFile[] = [];
    for (const file of this.options.files) {
      const hash = hashOf(file.path);
      if (hash === undefined || hash === this.hashes.get(file)) continue;
      this.hashes.set(file, hash);
      changed.push(file);
    }
    if (changed.length === 0) return;
    try {
      this.options.onChange(changed);
    } catch (err) {
      this.options.logger.error({ err }, 'reacting to a certificate file change failed');
    }
  }
}

function hashOf(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}
