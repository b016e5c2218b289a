import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup, StateMachine, type AnyStateMachine } from 'xstate';
import { brokerMachine } from '../../machines/broker.js';
import { nameServerMachine } from '../../machines/nameServer.js';
import { stateName } from '../../src/observe/transitions.js';
import { BrokerPathRunner } from './brokerExecutor.js';
import { generateBrokerPaths, type BrokerPath } from './brokerModel.js';
import { CoverageRecorder, coverageOf, formatCoverage, inventoryOf, type MachineCoverage } from './inventory.js';
import { LifecycleRun } from './lifecycleExecutor.js';
import { generateLifecyclePaths, LIFECYCLE_CONFIGS, type ModelPathNS } from './nameServerModel.js';
import { describePath } from './paths.js';

/**
 * Model-based tests: @xstate/graph generates paths through each statechart in
 * machines/ (shortest paths to every state, and simple paths where the graph
 * is small), and each path is executed against a running xnamesrv. Coverage is
 * measured on the running server's own actors (inspection events) and
 * compared with the full set of states and transitions read from each
 * machine's definition: a state or transition no executed path reached fails
 * the suite.
 */

interface ModelEntry {
  machine: AnyStateMachine;
  recorder: CoverageRecorder;
  generated: number;
  executed: number;
  steps: number;
  notes: string[];
}

const models = new Map<string, ModelEntry>([
  [
    'nameServer',
    { machine: nameServerMachine, recorder: new CoverageRecorder(), generated: 0, executed: 0, steps: 0, notes: [] },
  ],
  [
    'broker',
    { machine: brokerMachine, recorder: new CoverageRecorder(), generated: 0, executed: 0, steps: 0, notes: [] },
  ],
]);

const failureKindsRunOverall = new Set<string>();

const short = (path: { steps: Array<{ state: { value: unknown } }> }, origin: string) =>
  describePath({ origin, steps: path.steps as any }, (s) => stateName(s.value));

describe('every statechart in machines/ has a model here', () => {
  it('finds no machine without a model', async () => {
    const dir = fileURLToPath(new URL('../../machines/', import.meta.url));
    const found: string[] = [];
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
      const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (value instanceof StateMachine) found.push(`${value.id} (${file}: ${name})`);
      }
    }
    expect(found.length).toBeGreaterThan(0);
    const withoutModel = found.filter((entry) => !models.has(entry.split(' ')[0]!));
    expect(withoutModel, 'machines with no model and executor in test/model/').toEqual([]);
  });
});

describe('name server lifecycle chart (machines/nameServer.ts) executed against a running xnamesrv', () => {
  const entry = models.get('nameServer')!;
  let startFailures = 0;
  const failureKindsRun = failureKindsRunOverall;
  const nextStartFailure = () => (startFailures++ % 2 === 0 ? ('portInUse' as const) : ('corruptKv' as const));
  for (const config of LIFECYCLE_CONFIGS) {
    const generated = generateLifecyclePaths(config);
    const paths: ModelPathNS[] = [...generated.shortest, ...generated.simple];
    entry.generated += paths.length;
    if (generated.simpleSkipped)
      entry.notes.push(`${config.name}: ${generated.simpleSkipped} simple paths, over the limit, not run`);
    describe(config.name, () => {
      paths.forEach((path, index) => {
        it(`#${index} ${short(path, path.origin)}`, async () => {
          const run = new LifecycleRun(config, entry.recorder, nextStartFailure);
          await run.run(path);
          if (run.failure !== 'none') failureKindsRun.add(run.failure);
          entry.executed++;
          entry.steps += path.steps.length;
          for (const note of run.notes) if (!entry.notes.includes(note)) entry.notes.push(note);
        });
      });
    });
  }
});

describe('start-up failures', () => {
  it('were driven both ways: a taken remoting port and a corrupt KV file', () => {
    expect([...failureKindsRunOverall].sort()).toEqual(['corruptKv', 'portInUse']);
  });
});

describe('broker registration chart (machines/broker.ts) executed against a running xnamesrv', () => {
  const entry = models.get('broker')!;
  const runner = new BrokerPathRunner(entry.recorder);
  const generated = generateBrokerPaths();
  const paths: BrokerPath[] = [...generated.shortest, ...generated.simple, ...generated.fenced];
  entry.generated += paths.length;
  if (generated.simpleSkipped) entry.notes.push(`${generated.simpleSkipped} simple paths, over the limit, not run`);
  beforeAll(() => runner.start());
  afterAll(() => runner.stop());
  paths.forEach((path, index) => {
    it(`#${index} ${short(path, path.origin)}`, async () => {
      await runner.run(path, index);
      entry.executed++;
      entry.steps += path.steps.length;
    });
  });
});

describe('coverage of the executed paths', () => {
  it('reaches every state and takes every transition of every machine', async () => {
    const report: MachineCoverage[] = [];
    for (const [machineId, entry] of models) {
      const coverage = coverageOf(inventoryOf(entry.machine), entry.recorder, {
        generated: entry.generated,
        executed: entry.executed,
        steps: entry.steps,
      });
      expect(coverage.machineId).toBe(machineId);
      report.push(coverage);
    }
    const dir = join(tmpdir(), 'xnamesrv-model-coverage');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'coverage.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          generatedAt: new Date().toISOString(),
          machines: report,
          notes: Object.fromEntries([...models].map(([id, e]) => [id, e.notes])),
        },
        null,
        2,
      ),
    );
    const text = report.map(formatCoverage).join('\n');
    const notes = [...models].flatMap(([id, e]) => e.notes.map((n) => `  note (${id}): ${n}`));
    console.log(`model-based coverage (JSON: ${file})\n${text}${notes.length ? `\n${notes.join('\n')}` : ''}`);
    for (const coverage of report) {
      expect(coverage.states.missing, `${coverage.machineId}: states no executed path reached`).toEqual([]);
      expect(coverage.transitions.missing, `${coverage.machineId}: transitions no executed path took`).toEqual([]);
      expect(
        coverage.unknownTransitions,
        `${coverage.machineId}: transitions taken that the definition does not have`,
      ).toEqual([]);
      expect(coverage.paths.executed, `${coverage.machineId}: every generated path ran to its end`).toBe(
        coverage.paths.generated,
      );
    }
  });

  it('notices a state or transition that no path drives', () => {
    // The check above must fail when a chart grows: add a state and a way into it.
    const config = nameServerMachine.config as any;
    const grown = setup({}).createMachine({
      ...config,
      states: {
        ...config.states,
        ready: { ...config.states.ready, on: { ...config.states.ready.on, PAUSE: 'paused' } },
        paused: {},
      },
    });
    const recorder = models.get('nameServer')!.recorder;
    const coverage = coverageOf(inventoryOf(grown), recorder, { generated: 0, executed: 0, steps: 0 });
    expect(coverage.states.missing, JSON.stringify(coverage.states.missing)).toEqual(['nameServer.paused']);
    expect(coverage.transitions.missing, JSON.stringify(coverage.transitions.missing)).toEqual([
      'nameServer.ready --PAUSE[0]--> nameServer.paused',
    ]);
  });
});
