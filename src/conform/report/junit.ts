import { hostname } from 'node:os';
import { countsOf, type ConformReport, type PathRecord } from '../results.js';

/**
 * JUnit XML for CI systems: one test suite per group of paths (lifecycle,
 * broker, protocol), one test case per path. A failure carries the failing
 * step and every step's log; a skipped path and a known divergence are both
 * `<skipped>` (neither fails a build), told apart by their message and the
 * `conform.verdict` property.
 */
export function formatJUnit(report: ConformReport): string {
  const all = countsOf(report.paths);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites name="${attr(`${report.tool.name} ${report.target.description}`)}" tests="${all.total}" failures="${all.fail}" errors="0" skipped="${all.skip + all.divergence}" time="${seconds(report.run.durationMs)}">`,
  );
  for (const group of ['lifecycle', 'protocol', 'broker'] as const) {
    const paths = report.paths.filter((p) => p.group === group);
    if (paths.length === 0) continue;
    const c = countsOf(paths);
    lines.push(
      `  <testsuite name="conform.${group}" tests="${c.total}" failures="${c.fail}" errors="0" skipped="${c.skip + c.divergence}" time="${seconds(paths.reduce((sum, p) => sum + p.durationMs, 0))}" timestamp="${attr(report.run.startedAt.replace(/\.\d+Z$/, ''))}" hostname="${attr(hostname())}">`,
    );
    lines.push('    <properties>');
    for (const [name, value] of properties(report))
      lines.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    lines.push('    </properties>');
    for (const path of paths) lines.push(...testCase(path, seconds));
    lines.push('  </testsuite>');
  }
  if (report.cleanup && !report.cleanup.verified) {
    // A run that left brokers behind failed, whatever its paths did: CI must see it.
    lines.push(`  <testsuite name="conform.cleanup" tests="1" failures="1" errors="0" skipped="0" time="0">`);
    lines.push(`    <testcase classname="conform.cleanup" name="the run left nothing registered" time="0">`);
    lines.push(`      <failure message="${attr(report.cleanup.detail ?? 'brokers left behind')}" type="cleanup"/>`);
    lines.push('    </testcase>');
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}

function properties(report: ConformReport): Array<[string, string]> {
  return [
    ['target', report.target.description],
    ['target.kind', report.profile.kind],
    ['target.version', report.profile.version?.name ?? 'unknown'],
    ['run.id', report.run.runId],
    ['run.cluster', report.run.clusterName],
    ['run.clock', report.run.clock],
    ['run.heartbeatTimeoutMillis', String(report.run.heartbeatTimeoutMillis)],
    ['lifecycle', report.lifecycle],
  ];
}

function testCase(path: PathRecord, seconds: (ms: number) => string): string[] {
  const lines = [
    `    <testcase classname="conform.${path.group}" name="${attr(path.name)}" time="${seconds(path.durationMs)}">`,
  ];
  lines.push('      <properties>');
  lines.push(`        <property name="conform.id" value="${attr(path.id)}"/>`);
  lines.push(`        <property name="conform.verdict" value="${path.verdict}"/>`);
  lines.push(`        <property name="conform.origin" value="${attr(path.origin)}"/>`);
  lines.push(`        <property name="conform.readOnly" value="${path.readOnly}"/>`);
  if (path.divergenceId) lines.push(`        <property name="conform.divergence" value="${attr(path.divergenceId)}"/>`);
  lines.push('      </properties>');
  if (path.verdict === 'fail') {
    lines.push(
      `      <failure message="${attr(path.reason ?? 'failed')}" type="conformance">${text(stepLog(path))}</failure>`,
    );
  } else if (path.verdict === 'skip' || path.verdict === 'divergence') {
    lines.push(`      <skipped message="${attr(path.reason ?? path.verdict)}"/>`);
  }
  lines.push(`      <system-out>${text(stepLog(path))}</system-out>`);
  lines.push('    </testcase>');
  return lines;
}

function stepLog(path: PathRecord): string {
  return path.steps
    .map(
      (s) =>
        `${String(s.index).padStart(2)} ${s.verdict.padEnd(10)} ${s.from ?? '(start)'} -> ${s.to}: ${s.action}${s.detail ? `\n             ${s.detail}` : ''}`,
    )
    .join('\n');
}

/** XML 1.0 allows no control characters but tab, newline and carriage return, escaped or not. */
function clean(value: string): string {
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

function text(value: string): string {
  return clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
