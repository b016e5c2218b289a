import type { ConformReport, PathRecord } from '../../src/conform/results.js';
import { profileOf } from '../../src/conform/target/profile.js';

/** A report with one path of every verdict, and text that XML and terminals must both survive. */
export function sampleReport(overrides: Partial<ConformReport> = {}): ConformReport {
  const step = (
    index: number,
    verdict: PathRecord['steps'][number]['verdict'],
    detail?: string,
  ): PathRecord['steps'][number] => ({
    index,
    eventType: index === 0 ? 'xstate.init' : 'HEARTBEAT',
    action: index === 0 ? 'REGISTER_BROKER as master over connection 1' : 'BROKER_HEARTBEAT over connection 1',
    from: index === 0 ? null : 'registered',
    to: 'registered',
    verdict,
    ...(detail ? { detail } : {}),
    atMs: index * 10,
  });
  const paths: PathRecord[] = [
    {
      id: 'broker-01',
      group: 'broker',
      machineId: 'broker',
      name: 'broker: register c1 → heartbeat',
      origin: 'broker / shortest',
      verdict: 'pass',
      readOnly: false,
      steps: [step(0, 'pass'), step(1, 'pass')],
      durationMs: 12,
      targetMs: 0,
    },
    {
      id: 'broker-02',
      group: 'broker',
      machineId: 'broker',
      name: 'broker: register c1 → expire <&"\'>',
      origin: 'broker / shortest',
      verdict: 'fail',
      reason:
        'step 1 (silence): 7 s after its last refresh: cluster info shows b <x> & "y"\u0001 with {0: 192.0.2.1:20000}, expected no address',
      readOnly: false,
      steps: [step(0, 'pass'), step(1, 'fail', 'cluster info shows b <x> & "y"\u0001 with {0: 192.0.2.1:20000}')],
      durationMs: 7000,
      targetMs: 7000,
    },
    {
      id: 'broker-03',
      group: 'broker',
      machineId: 'broker',
      name: 'broker: register c1 → heartbeat → expire',
      origin: 'broker / scripted',
      verdict: 'skip',
      reason: 'skipped: needs 120 s per expiry',
      readOnly: false,
      steps: [step(0, 'not-run'), step(1, 'not-run')],
      durationMs: 0,
      targetMs: 0,
    },
    {
      id: 'protocol-01',
      group: 'protocol',
      name: 'protocol: a request code the server does not serve is answered REQUEST_CODE_NOT_SUPPORTED',
      origin: 'protocol / scripted',
      verdict: 'divergence',
      reason: 'known divergence: the Java name server never answers a request code it does not serve',
      divergenceId: 'java-unknown-request-code-unanswered',
      readOnly: true,
      steps: [
        {
          index: 0,
          eventType: 'request code 9999',
          action: 'request code 9999',
          from: null,
          to: 'answered',
          verdict: 'divergence',
          detail: 'no response within 3000 ms',
        },
      ],
      durationMs: 3000,
      targetMs: 3000,
    },
  ];
  const profile = profileOf('rocketmq-5', 'its answers carry version 479 (5.3.3)', 479, new Map());
  return {
    tool: { name: 'xnamesrv conform', version: '0.1.0' },
    target: { remoting: '10.0.0.5:9876', description: '10.0.0.5:9876' },
    profile: {
      kind: profile.kind,
      detectedFrom: profile.detectedFrom,
      version: profile.version,
      refresh: profile.refresh,
      expiry: profile.expiry,
    },
    run: {
      runId: 'abc123',
      clusterName: 'conform-abc123',
      clock: 'real',
      heartbeatTimeoutMillis: 10000,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:10.000Z',
      durationMs: 10012,
    },
    lifecycle: 'not checked: conform was not told how the target was started (--wait-seconds)',
    paths,
    cleanup: { brokers: 3, verified: true },
    notes: [],
    aborted: false,
    ...overrides,
  };
}
