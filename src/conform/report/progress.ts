import type { Progress } from '../run/runner.js';

/**
 * A one-line progress bar for runs against a real target, where expiries and
 * waits take minutes: paths done, failures so far, elapsed time, the path
 * running now. Redrawn in place on a terminal; nothing at all otherwise (a CI
 * log wants the report, not a thousand carriage returns). Hand-written: one
 * line of ANSI does not need a dependency.
 */
export interface ProgressOutput {
  write(text: string): unknown;
  /** Terminal width; undefined when not a terminal. */
  columns?: number;
}

const BAR_WIDTH = 24;

export function progressBar(
  output: ProgressOutput,
  now: () => number = Date.now,
): { update(progress: Progress): void; finish(): void } {
  const started = now();
  let done = 0;
  let failed = 0;
  let total = 0;
  let expectedMs: number | undefined;
  let current = '';
  let drawn = false;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    const columns = output.columns ?? 80;
    const filled = total === 0 ? 0 : Math.round((done / total) * BAR_WIDTH);
    const elapsed = Math.floor((now() - started) / 1000);
    const clock = `${minutes(elapsed)}${expectedMs && expectedMs >= 60_000 ? ` of ~${minutes(Math.ceil(expectedMs / 1000))}` : ''}`;
    const head = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total}${failed ? ` (${failed} failed)` : ''} ${clock} `;
    const room = Math.max(0, columns - head.length - 1);
    const tail = current.length > room ? `${current.slice(0, Math.max(0, room - 1))}…` : current;
    output.write(`\r\x1b[2K${head}${tail}`);
    drawn = true;
  };
  return {
    update(progress) {
      if (progress.kind === 'planned') {
        total = progress.total;
        expectedMs = progress.estimatedMs;
        // The elapsed time moves while a path waits minutes for an expiry.
        ticker = setInterval(draw, 1_000);
        ticker.unref();
      } else if (progress.kind === 'started') current = progress.name;
      else {
        done++;
        if (progress.record.verdict === 'fail') failed++;
      }
      draw();
    },
    finish() {
      if (ticker) clearInterval(ticker);
      if (drawn) output.write('\r\x1b[2K');
    },
  };
}

function minutes(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
