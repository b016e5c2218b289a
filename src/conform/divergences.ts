import type { TargetKind } from './target/profile.js';

/**
 * Known, documented differences between name server implementations: the one
 * list of them. A path that fails in exactly the way an entry describes, on a
 * kind of target the entry names, is reported as "known divergence: <reason>"
 * and does not fail the run. Anything else that fails is a failure, and
 * nothing here applies to xnamesrv itself: it keeps every contract the charts
 * state, so a divergence of xnamesrv is a bug.
 *
 * To add one: the exact failure (which check, which step, what was seen),
 * the kinds of target, and a reason with the upstream reference an operator
 * can read.
 */
export interface FailureSite {
  /** Which check found the difference (the runners name it). */
  check: CheckName;
  /** What went wrong, in the category the runner found. */
  kind: 'missing' | 'present' | 'no-answer' | 'other';
}

export type CheckName =
  /** A broker the chart says is still registered after the close of a connection it had left. */
  | 'fenced-close'
  /** A request code the target does not serve is answered REQUEST_CODE_NOT_SUPPORTED. */
  | 'unknown-request-code'
  | 'route-read'
  | 'cluster-info'
  | 'expiry'
  | 'readiness'
  | 'wire';

export interface KnownDivergence {
  id: string;
  appliesTo: readonly TargetKind[];
  reason: string;
  matches(site: FailureSite): boolean;
}

export const KNOWN_DIVERGENCES: readonly KnownDivergence[] = [
  {
    id: 'java-unknown-request-code-unanswered',
    appliesTo: ['rocketmq-4', 'rocketmq-5'],
    reason:
      "the Java name server never answers a request code it does not serve (its default processor returns no response, so the client times out); xnamesrv answers REQUEST_CODE_NOT_SUPPORTED as RocketMQ's remoting layer does for unregistered codes",
    matches: (site) => site.check === 'unknown-request-code' && site.kind === 'no-answer',
  },
  {
    id: 'rocketmq-11043-stale-unregister',
    appliesTo: ['rocketmq-5'],
    reason:
      "apache/rocketmq#11043: since 5.0 an unregistration decided on a channel close (or an expiry) is queued (BatchUnregistrationService) and applied by cluster and address only, so it can remove the broker's fresh registration on its new connection; xnamesrv fences removals by connection and generation",
    matches: (site) => site.check === 'fenced-close' && site.kind === 'missing',
  },
];

/** The known divergence that explains this failure on this kind of target, if any. */
export function knownDivergenceFor(kind: TargetKind, site: FailureSite): KnownDivergence | undefined {
  return KNOWN_DIVERGENCES.find((d) => d.appliesTo.includes(kind) && d.matches(site));
}
