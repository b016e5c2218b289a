import { countsOf, type ConformReport, type PathRecord } from '../results.js';

/**
 * The report on the terminal: what was checked, one line per path (with the
 * reason under each path that did not pass), and the totals last, where the
 * eye lands when the run ends.
 */
const LABEL: Record<PathRecord['verdict'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  skip: 'SKIP',
  divergence: 'DIVERGENCE',
};

export function formatTerminalReport(
  report: ConformReport,
  options: { width?: number; onlyProblems?: boolean } = {},
): string {
  const width = Math.max(60, options.width ?? 120);
  const out: string[] = [];
  const profile = report.profile;
  out.push(`${report.tool.name} ${report.tool.version} against ${report.target.description}`);
  const about = [
    `target: ${profile.kind}${profile.version ? ` (version ${profile.version.name})` : ''}, because ${profile.detectedFrom}`,
    `run ${report.run.runId}: cluster ${report.run.clusterName}, brokers register with heartbeatTimeoutMillis ${report.run.heartbeatTimeoutMillis}, ` +
      `${report.run.clock === 'real' ? 'real time' : 'simulated time'}; refresh by ${profile.refresh}; expiry ${describeExpiry(profile.expiry)}`,
    `lifecycle: ${report.lifecycle}`,
    ...report.notes.map((note) => `note: ${note}`),
  ];
  for (const line of about)
    for (const [i, part] of wrap(line, width - 4).entries()) out.push(`${i === 0 ? '  ' : '    '}${part}`);
  out.push('');

  const rows = report.paths.filter((p) => !options.onlyProblems || p.verdict !== 'pass');
  const verdictWidth = Math.max(...Object.values(LABEL).map((l) => l.length));
  const stepsWidth = 7;
  const timeWidth = 8;
  const nameWidth = width - verdictWidth - stepsWidth - timeWidth - 6;
  out.push(
    `${'verdict'.padEnd(verdictWidth)}  ${'path'.padEnd(nameWidth)}  ${'steps'.padStart(stepsWidth - 2)}  ${'time'.padStart(timeWidth - 2)}`,
  );
  for (const path of rows) {
    const done = path.steps.filter((s) => s.verdict === 'pass').length;
    const steps = path.steps.length > 0 ? `${done}/${path.steps.length}` : '';
    out.push(
      `${LABEL[path.verdict].padEnd(verdictWidth)}  ${clip(path.name, nameWidth).padEnd(nameWidth)}  ${steps.padStart(stepsWidth - 2)}  ${seconds(path).padStart(timeWidth - 2)}`,
    );
    if (path.verdict !== 'pass' && path.reason) {
      for (const line of wrap(path.reason, width - verdictWidth - 2))
        out.push(`${' '.repeat(verdictWidth + 2)}${line}`);
    }
  }
  if (options.onlyProblems && rows.length === 0) out.push('(every path passed)');
  out.push('');
  // One line, whatever its length: the line people look for (and grep for) at the end.
  out.push(summaryLine(report));
  // What the target answered is printed as text: no escape sequence of its reaches the terminal.
  return out.map(printable).join('\n') + '\n';
}

function printable(line: string): string {
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

export function summaryLine(report: ConformReport): string {
  const c = countsOf(report.paths);
  const parts = [`${c.pass} passed`, `${c.fail} failed`];
  if (c.divergence) parts.push(`${c.divergence} known divergence${c.divergence === 1 ? '' : 's'}`);
  if (c.skip) parts.push(`${c.skip} skipped`);
  const cleanup = report.cleanup
    ? report.cleanup.verified
      ? `clean-up: ${report.cleanup.brokers} brokers unregistered, none left`
      : `clean-up FAILED: ${report.cleanup.detail ?? 'brokers left behind'}`
    : 'clean-up: not checked';
  return `${c.total} paths: ${parts.join(', ')}; ${cleanup}; ${Math.round(report.run.durationMs / 100) / 10} s${report.aborted ? ' (aborted)' : ''}`;
}

function describeExpiry(expiry: ConformReport['profile']['expiry']): string {
  const slack = expiry.scanSlackMs ? `, up to ${expiry.scanSlackMs / 1000} s late (scan interval)` : '';
  return expiry.honoursHeartbeatTimeout
    ? `after heartbeatTimeoutMillis${slack}`
    : `fixed at ${(expiry.fixedMs ?? 0) / 1000} s${slack}`;
}

function seconds(path: PathRecord): string {
  if (path.steps.every((s) => s.verdict === 'not-run')) return '';
  const ms = Math.max(path.durationMs, path.targetMs);
  return `${(ms / 1000).toFixed(1)} s`;
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    if (line) lines.push(line);
  }
  return lines;
}
