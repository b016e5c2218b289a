import { afterAll, describe, expect, it } from 'vitest';
import { runConformance } from '../../src/conform/run/runner.js';
import { inProcessLauncher } from '../../src/conform/target/inProcess.js';
import { MUTANTS } from './mutants.js';

/**
 * Mutation testing of `xnamesrv conform`: each mutant is xnamesrv with one
 * known bug (mutants.ts). The full conform run, as against any target, must
 * fail each one, and on the path named here, the one written to catch it.
 * The score is printed (README, "Conformance").
 */
const CATCHES: Record<string, string> = {
  'not ready again after the first route read (apache/rocketmq#9182)':
    'lifecycle (wait, no target): started → wait passes → register M → heartbeat M',
  'no expiry': 'broker: register c1 → expire',
  'stale unregister removes a fresh registration (apache/rocketmq#11043)':
    'broker: register c1 → register c2 → close c1 → heartbeat → close c2',
  'slave-to-master switch leaves the old id': 'broker: register c1 as slave → register c1 as master → unregister',
  'a wait that never ends': 'lifecycle (wait, no target): started → register M → wait passes',
  'readiness before the wait target is met':
    'lifecycle (wait for target, serve on timeout): started → wait passes → deadline → register M → heartbeat M',
  'heartbeats refresh nothing': 'broker: register c1 → heartbeat → expire',
};

const caught = new Map<string, string[]>();

describe('conform catches every mutant', () => {
  it('has a catching path named for every mutant', () => {
    expect(Object.keys(CATCHES).sort()).toEqual(MUTANTS.map((m) => m.name).sort());
  });

  for (const mutant of MUTANTS) {
    it(mutant.name, { timeout: 90_000 }, async () => {
      const report = await runConformance({ launcher: inProcessLauncher(mutant.options) });
      const failed = report.paths.filter((p) => p.verdict === 'fail').map((p) => p.name);
      caught.set(mutant.name, failed);
      expect(failed, `${mutant.fault}: no path failed`).not.toEqual([]);
      expect(failed, `${mutant.fault}: the path written for it passed`).toContain(CATCHES[mutant.name]);
      // xnamesrv has no known divergences: a mutant's failure is never excused as one.
      expect(report.paths.filter((p) => p.verdict === 'divergence')).toEqual([]);
    });
  }

  afterAll(() => {
    const lines = MUTANTS.map(
      (m) =>
        `  ${caught.get(m.name)?.length ? 'caught' : 'MISSED'}  ${m.name}: ${caught.get(m.name)?.length ?? 0} failing paths`,
    );
    console.log(
      `mutation score ${[...caught.values()].filter((f) => f.length > 0).length}/${MUTANTS.length}\n${lines.join('\n')}`,
    );
  });
});
