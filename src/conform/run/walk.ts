import { RemotingTimeoutError } from '../../remoting/client.js';
import type { ConformClock } from '../clock.js';
import { knownDivergenceFor } from '../divergences.js';
import type { PathGroup, PathRecord, StepRecord } from '../results.js';
import type { Mismatch } from '../target/observe.js';
import type { TargetProfile } from '../target/profile.js';
import { errorMessage } from '../../util/errorMessage.js';

/** One step as a runner prepared it: what the chart says, and how to drive and judge it on the wire. */
export interface StepPlan {
  eventType: string;
  action: string;
  from: string | null;
  to: string;
  /** Drives the step and judges the target's answers; the first difference, or undefined. */
  run(): Promise<Mismatch | undefined>;
}

export interface PathMeta {
  id: string;
  group: PathGroup;
  machineId?: 'broker' | 'nameServer';
  name: string;
  origin: string;
  readOnly: boolean;
}

/**
 * Runs a path's steps in order and records each verdict. The first step whose
 * answers differ from the chart ends the path: a failure, or a known
 * divergence when divergences.ts explains exactly that difference on this
 * kind of target. Steps after it are recorded as not run.
 */
export async function walk(
  meta: PathMeta,
  steps: readonly StepPlan[],
  clock: ConformClock,
  profile: TargetProfile,
  signal?: AbortSignal,
): Promise<PathRecord> {
  const started = Date.now();
  const startedTarget = clock.now();
  const records: StepRecord[] = steps.map((s, index) => ({
    index,
    eventType: s.eventType,
    action: s.action,
    from: s.from,
    to: s.to,
    verdict: 'not-run',
  }));
  const finish = (verdict: PathRecord['verdict'], reason?: string, divergenceId?: string): PathRecord => ({
    ...meta,
    verdict,
    ...(reason ? { reason } : {}),
    ...(divergenceId ? { divergenceId } : {}),
    steps: records,
    durationMs: Date.now() - started,
    targetMs: clock.now() - startedTarget,
  });
  for (const [index, step] of steps.entries()) {
    if (signal?.aborted) return finish('skip', 'aborted');
    let mismatch: Mismatch | undefined;
    try {
      mismatch = await step.run();
    } catch (err) {
      if (err instanceof CannotRunInTime) return finish('skip', `not run to its end: ${err.message}`);
      mismatch = asMismatch(err);
    }
    const record = records[index]!;
    record.atMs = clock.now() - startedTarget;
    if (!mismatch) {
      record.verdict = 'pass';
      continue;
    }
    record.detail = mismatch.message;
    const divergence = knownDivergenceFor(profile.kind, mismatch);
    if (divergence) {
      record.verdict = 'divergence';
      return finish('divergence', `known divergence: ${divergence.reason}`, divergence.id);
    }
    record.verdict = 'fail';
    return finish('fail', `step ${index} (${step.action}): ${mismatch.message}`);
  }
  return finish('pass');
}

/** The target's time ran past the point a step was planned for: the path says nothing about the target. */
export class CannotRunInTime extends Error {}

/** A request that failed on the wire, as a difference: no answer at all is a category of its own. */
export function asMismatch(err: unknown): Mismatch {
  if (err instanceof RemotingTimeoutError) return { check: 'wire', kind: 'no-answer', message: err.message };
  const message = errorMessage(err);
  return { check: 'wire', kind: 'other', message };
}
