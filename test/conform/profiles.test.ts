import { describe, expect, it } from 'vitest';
import { KNOWN_DIVERGENCES } from '../../src/conform/divergences.js';
import { succeeded } from '../../src/conform/results.js';
import { runConformance } from '../../src/conform/run/runner.js';
import { UNKNOWN_CODE_CHECK } from '../../src/conform/run/protocolChecks.js';
import { inProcessLauncher, type InProcessOptions } from '../../src/conform/target/inProcess.js';
import { versionName } from '../../src/conform/target/profile.js';
import { MUTANTS } from './mutants.js';

/**
 * How conform treats targets that are not xnamesrv, checked on in-process
 * stand-ins (what differs is only what the target answers, and conform reads
 * only that): known divergences are reported as such on the kinds of target
 * they name and nowhere else, and a 4.9-style target is driven and timed as
 * RocketMQ 4.9 does.
 */

/** Like the Java name server, never answers a request code it does not serve. */
const silentOnUnknownCodes: InProcessOptions = {
  adapt: (server) => server.remoting.register(9_999, () => undefined),
};
const staleUnregister = MUTANTS.find((m) => m.name.startsWith('stale unregister'))!.options;

describe('known divergences', () => {
  it('every entry names its kinds of target and a reason, and none applies to xnamesrv', () => {
    for (const divergence of KNOWN_DIVERGENCES) {
      expect(divergence.appliesTo.length, divergence.id).toBeGreaterThan(0);
      expect(divergence.appliesTo, divergence.id).not.toContain('xnamesrv');
      expect(divergence.reason.length, divergence.id).toBeGreaterThan(40);
    }
  });

  it(
    'an unanswered unknown request code is a known divergence of a Java target, and a failure of xnamesrv',
    { timeout: 60_000 },
    async () => {
      const only = (name: string) => name === UNKNOWN_CODE_CHECK;
      const java = await runConformance({
        launcher: inProcessLauncher(silentOnUnknownCodes),
        flavor: 'rocketmq-5',
        only,
        requestTimeoutMs: 300,
      });
      const path = java.paths.find((p) => p.name === UNKNOWN_CODE_CHECK)!;
      expect(path).toMatchObject({
        verdict: 'divergence',
        divergenceId: 'java-unknown-request-code-unanswered',
        reason: expect.stringMatching(/^known divergence: the Java name server never answers/),
      });
      expect(succeeded(java)).toBe(true);

      const claimed = await runConformance({
        launcher: inProcessLauncher(silentOnUnknownCodes),
        only,
        requestTimeoutMs: 300,
      });
      expect(claimed.profile.kind).toBe('xnamesrv');
      expect(claimed.paths.find((p) => p.name === UNKNOWN_CODE_CHECK)).toMatchObject({
        verdict: 'fail',
        reason: expect.stringMatching(/no response to .*9999.* within 300 ms/),
      });
      expect(succeeded(claimed)).toBe(false);
    },
  );

  it(
    'a stale unregister is apache/rocketmq#11043 on RocketMQ 5, and a failure of a 4.9 target, which fences it',
    { timeout: 60_000 },
    async () => {
      const only = (name: string) => name === 'broker: register c1 → register c2 → close c1 → heartbeat → close c2';
      const five = await runConformance({ launcher: inProcessLauncher(staleUnregister), flavor: 'rocketmq-5', only });
      expect(five.paths.find((p) => only(p.name))).toMatchObject({
        verdict: 'divergence',
        divergenceId: 'rocketmq-11043-stale-unregister',
      });
      const four = await runConformance({ launcher: inProcessLauncher(staleUnregister), flavor: 'rocketmq-4', only });
      expect(four.paths.find((p) => only(p.name))).toMatchObject({ verdict: 'fail' });
    },
  );
});

describe('a RocketMQ 4.9-style target', () => {
  const only = (name: string) =>
    name.startsWith('broker: register c1 → heartbeat') || name === 'broker: register c1 → expire';

  it(
    'refreshes by re-registering, and skips expiries, which take a fixed 120 s, unless --long',
    { timeout: 60_000 },
    async () => {
      const report = await runConformance({ launcher: inProcessLauncher(), flavor: 'rocketmq-4', only });
      expect(report.profile).toMatchObject({
        refresh: 'REGISTER_BROKER',
        expiry: { honoursHeartbeatTimeout: false, fixedMs: 120_000 },
      });
      const byName = Object.fromEntries(report.paths.filter((p) => only(p.name)).map((p) => [p.name, p]));
      expect(byName['broker: register c1 → heartbeat']).toMatchObject({ verdict: 'pass' });
      expect(byName['broker: register c1 → heartbeat']!.steps[1]!.action).toBe(
        'REGISTER_BROKER again (4.9 has no BROKER_HEARTBEAT) over connection 1',
      );
      expect(byName['broker: register c1 → expire']).toMatchObject({
        verdict: 'skip',
        reason: expect.stringMatching(/^skipped: needs 120 s per expiry/),
      });
      expect(succeeded(report)).toBe(true);
    },
  );

  it('with --long, waits the 120 s (simulated here) and sees each expiry', { timeout: 60_000 }, async () => {
    // The registrations carry no heartbeatTimeoutMillis, as a 4.9 broker's do: xnamesrv then expires after 120 s too.
    const report = await runConformance({ launcher: inProcessLauncher(), flavor: 'rocketmq-4', long: true, only });
    const expiring = report.paths.filter((p) => only(p.name) && p.name.endsWith('expire'));
    expect(expiring.map((p) => [p.name, p.verdict])).toEqual([
      ['broker: register c1 → expire', 'pass'],
      ['broker: register c1 → heartbeat → expire', 'pass'],
    ]);
    expect(expiring[0]!.targetMs).toBeGreaterThanOrEqual(120_000);
  });
});

it('names MQVersion ordinals as RocketMQ releases', () => {
  expect(versionName(409)).toBe('4.9.8');
  expect(versionName(412)).toBe('5.0.0-SNAPSHOT');
  expect(versionName(413)).toBe('5.0.0');
  expect(versionName(479)).toBe('5.3.3');
  expect(versionName(37)).toBe('ordinal 37');
});
