import { errorMessage } from '../util/errorMessage.js';
import type { Counts } from './types.js';

/** The simulator's bookkeeping: request counts, the first few distinct errors, a bounded task pool. */

export const MAX_ERRORS = 3;

export function counts(): Counts {
  return { sent: 0, acknowledged: 0, failed: 0 };
}

export function add(into: Counts, from: Counts): void {
  into.sent += from.sent;
  into.acknowledged += from.acknowledged;
  into.failed += from.failed;
}

export function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED')
    return `connection refused (${(e as { address?: string }).address ?? ''}:${(e as { port?: number }).port ?? ''})`;
  return errorMessage(err);
}

export class ErrorLog {
  readonly seen: string[] = [];
  note(text: string): void {
    if (this.seen.length < MAX_ERRORS && !this.seen.includes(text)) this.seen.push(text);
  }
}

/** Runs tasks with at most `limit` in flight. */
export async function runPool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
