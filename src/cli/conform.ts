import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { processIo, stopSignal, usageError, type ToolIo } from '../admin/io.js';
import { createServerIdentity } from '../gateway/serverIdentity.js';
import { conformUsage, parseConformArgs, type ConformCliOptions } from '../conform/options.js';
import { loadChartAssets } from '../conform/report/chartAssets.js';
import { formatHtml } from '../conform/report/html.js';
import { formatJUnit } from '../conform/report/junit.js';
import { progressBar } from '../conform/report/progress.js';
import { formatTerminalReport } from '../conform/report/terminal.js';
import { succeeded, type ConformReport } from '../conform/results.js';
import { httpEvidence } from '../conform/run/httpEvidence.js';
import { ConformUsageError, runConformance, TargetUnreachable, type ConformOptions } from '../conform/run/runner.js';
import { inProcessLauncher } from '../conform/target/inProcess.js';
import type { TargetLauncher } from '../conform/target/launcher.js';
import { remoteLauncher } from '../conform/target/remote.js';

/**
 * `xnamesrv conform`: checks a name server against xnamesrv's charts and
 * writes the reports. Exit codes: 0 nothing failed, 1 a path failed (or the
 * run left brokers behind, or was interrupted), 2 bad arguments or an
 * unreachable target.
 */
export interface ConformIo extends ToolIo {
  /** Whether stderr is a terminal (the progress bar is drawn only there), and its width. */
  stderrColumns?: number;
  stdoutColumns?: number;
}

export async function runConform(argv: string[], io: ConformIo = cliIo()): Promise<number> {
  const parsed = parseConformArgs(argv);
  if (!parsed.ok) {
    return usageError(io, 'conform', parsed.error);
  }
  const cli = parsed.options;
  if (cli.help) {
    io.stdout.write(conformUsage());
    return 0;
  }
  const stop = stopSignal(io);
  const bar =
    cli.progress && io.stderrColumns !== undefined
      ? progressBar({ write: (t) => io.stderr.write(t), columns: io.stderrColumns })
      : undefined;
  let report: ConformReport;
  try {
    report = await runConformance({
      ...runOptions(cli, launcherFor(cli)),
      signal: stop.signal,
      onProgress: bar ? (p) => bar.update(p) : undefined,
    });
  } catch (err) {
    bar?.finish();
    if (err instanceof TargetUnreachable || err instanceof ConformUsageError) {
      io.stderr.write(`xnamesrv conform: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    stop.dispose();
  }
  bar?.finish();
  io.stdout.write(formatTerminalReport(report, { width: io.stdoutColumns ?? 120, onlyProblems: cli.problemsOnly }));
  const written = await writeReports(cli, report);
  for (const line of written) io.stdout.write(`${line}\n`);
  return succeeded(report) ? 0 : 1;
}

function launcherFor(cli: ConformCliOptions): TargetLauncher {
  if (cli.self)
    return inProcessLauncher({ description: 'xnamesrv started by conform in this process (simulated clock)' });
  return remoteLauncher(
    { host: cli.target!.host, port: cli.target!.port },
    cli.http ? httpEvidence(`http://${cli.http.text}`) : undefined,
  );
}

function runOptions(cli: ConformCliOptions, launcher: TargetLauncher): ConformOptions {
  return {
    launcher,
    toolVersion: createServerIdentity().version,
    long: cli.long,
    simplePaths: !cli.shortestOnly,
    readOnly: cli.readOnly,
    ...(cli.flavor ? { flavor: cli.flavor } : {}),
    ...(cli.startedWith ? { startedWith: cli.startedWith } : {}),
    ...(cli.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: cli.heartbeatTimeoutMs } : {}),
    ...(cli.settleBudgetMs !== undefined ? { settleBudgetMs: cli.settleBudgetMs } : {}),
    ...(cli.requestTimeoutMs !== undefined ? { requestTimeoutMs: cli.requestTimeoutMs } : {}),
    ...(cli.concurrency !== undefined ? { concurrency: cli.concurrency } : {}),
    ...(cli.only ? { only: (name: string) => cli.only!.test(name) } : {}),
  };
}

async function writeReports(cli: ConformCliOptions, report: ConformReport): Promise<string[]> {
  const written: string[] = [];
  const write = async (file: string, text: string, what: string) => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    written.push(`${what} written to ${file}`);
  };
  if (cli.junit) await write(cli.junit, formatJUnit(report), 'JUnit XML');
  if (cli.html) await write(cli.html, formatHtml(report, loadChartAssets()), 'HTML report');
  if (cli.json) await write(cli.json, JSON.stringify(report, null, 2) + '\n', 'JSON report');
  return written;
}

function cliIo(): ConformIo {
  return {
    ...processIo(),
    ...(process.stderr.isTTY ? { stderrColumns: process.stderr.columns ?? 80 } : {}),
    ...(process.stdout.isTTY ? { stdoutColumns: process.stdout.columns ?? 120 } : {}),
  };
}
