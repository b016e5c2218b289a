import { describe, expect, it } from 'vitest';
import { countsOf, succeeded } from '../../src/conform/results.js';
import { runConformance } from '../../src/conform/run/runner.js';
import { inProcessLauncher } from '../../src/conform/target/inProcess.js';

describe('conform against a freshly started xnamesrv (in process, simulated clock)', () => {
  it('passes every path, and leaves nothing registered', { timeout: 90_000 }, async () => {
    const report = await runConformance({ launcher: inProcessLauncher() });
    const notPassed = report.paths
      .filter((p) => p.verdict !== 'pass')
      .map((p) => `${p.verdict} ${p.name}: ${p.reason}`);
    expect(notPassed).toEqual([]);
    expect(succeeded(report)).toBe(true);
    expect(report.cleanup).toMatchObject({ verified: true });
    expect(report.profile.kind).toBe('xnamesrv');
    const counts = countsOf(report.paths);
    // Every group ran: the lifecycle on targets of their own, brokers and protocol on the shared one.
    for (const group of ['lifecycle', 'broker', 'protocol'] as const)
      expect(
        report.paths.some((p) => p.group === group),
        group,
      ).toBe(true);
    expect(counts.total).toBeGreaterThan(60);
  });
});
