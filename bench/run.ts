/**
 * `npm run bench`: every figure of the performance issue, each beside its
 * reference measured in the same run. BENCH_ONLY=1,3 runs a subset;
 * BENCH_QUICK=1 shortens everything; BENCH_PROFILE=1 writes CPU profiles of
 * the name server processes to bench/results/profiles.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, type BenchContext, type Row } from './lib/context.js';
import { Child } from './lib/rpc.js';
import { figure6 } from './figures/expiry.js';
import { figure7 } from './figures/gateway.js';
import { figure1, figure2, setupReads, type ReadSetup } from './figures/reads.js';
import { figure3 } from './figures/registration.js';
import { figures4and5 } from './figures/storm.js';
import { errorMessage, errorStack } from '../src/util/errorMessage.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench -> <repo>/bench/results
const resultsDir = join(here, '..', '..', 'bench', 'results');

function parseOnly(raw: string | undefined): Set<number> {
  if (!raw) return new Set([1, 2, 3, 4, 5, 6, 7]);
  return new Set(
    raw
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => n >= 1 && n <= 7),
  );
}

async function main(): Promise<void> {
  const only = parseOnly(process.env.BENCH_ONLY);
  const quick = process.env.BENCH_QUICK === '1';
  const profile = process.env.BENCH_PROFILE === '1';
  const started = Date.now();
  const children: Child[] = [];
  const ctx: BenchContext = {
    quick,
    profile,
    rows: [],
    details: {},
    log: (m) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`),
    own: (c) => {
      children.push(c);
      return c;
    },
    async startServer(name, settings = {}) {
      const execArgv = ['--expose-gc', ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)];
      if (profile) {
        // One directory per server: its main thread and worker threads each write a profile.
        const dir = join(resultsDir, 'profiles', `${name}-${Date.now()}`);
        mkdirSync(dir, { recursive: true });
        execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
      }
      const child = ctx.own(Child.start(name, 'nameServer', { execArgv }));
      const { port, httpPort } = await child.call('start', { settings });
      return { child, port, httpPort };
    },
  };
  const stopAll = async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
  };

  ctx.log(
    `xnamesrv bench: figures ${[...only].join(',')}${quick ? ' (quick)' : ''}; ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${load()}`,
  );
  const failures: string[] = [];
  const attempt = async (label: string, fn: () => Promise<void>) => {
    ctx.log(`figure ${label}`);
    try {
      await fn();
    } catch (err) {
      failures.push(`${label}: ${errorMessage(err)}`);
      ctx.log(`  FAILED: ${errorStack(err)}`);
    }
  };

  if (only.has(1) || only.has(2)) {
    let setup: ReadSetup | undefined;
    await attempt('1/2 setup', async () => {
      setup = await setupReads(ctx);
    });
    if (setup) {
      if (only.has(1)) await attempt('1: route read ceiling', () => figure1(ctx, setup!));
      if (only.has(2)) await attempt('2: reads during re-registration', () => figure2(ctx, setup!));
    }
    await stopAll();
  }
  if (only.has(3)) {
    await attempt('3: registration cost', () => figure3(ctx));
    await stopAll();
  }
  if (only.has(4) || only.has(5)) {
    await attempt(`${[4, 5].filter((n) => only.has(n)).join(' and ')}: storm and memory`, () =>
      figures4and5(ctx, only),
    );
    await stopAll();
  }
  if (only.has(6)) {
    await attempt('6: expiry', () => figure6(ctx));
    await stopAll();
  }
  if (only.has(7)) {
    await attempt('7: gateway fan-out', () => figure7(ctx));
    await stopAll();
  }

  printTable(ctx.rows);
  const result = {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model,
    node: process.version,
    quick,
    figures: [...only],
    elapsedSeconds: (Date.now() - started) / 1000,
    rows: ctx.rows,
    failures,
    details: ctx.details,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(result, null, 2));
  ctx.log(`wrote ${join(resultsDir, 'latest.json')} in ${result.elapsedSeconds.toFixed(0)} s`);
  if (failures.length > 0) {
    ctx.log(`failures:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

function printTable(rows: Row[]): void {
  const headers: Array<keyof Row> = ['figure', 'metric', 'value', 'reference', 'ratio', 'target', 'met'];
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  process.stdout.write('\n' + line(headers) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n');
  for (const r of rows) process.stdout.write(line(headers.map((h) => String(r[h]))) + '\n');
  process.stdout.write('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
