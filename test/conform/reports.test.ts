import { describe, expect, it } from 'vitest';
import { formatJUnit } from '../../src/conform/report/junit.js';
import { progressBar } from '../../src/conform/report/progress.js';
import { formatTerminalReport } from '../../src/conform/report/terminal.js';
import { succeeded } from '../../src/conform/results.js';
import { profileOf } from '../../src/conform/target/profile.js';
import { sampleReport } from './sampleReport.js';

/**
 * A strict reading of XML 1.0 as this writer uses it (declaration, elements,
 * attributes in double quotes, the five predefined entities and numeric
 * character references, text): throws on anything else, returns the element tree.
 */
interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const decode = (raw: string) => {
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(raw)) fail('control character');
    return raw.replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos|[^;]*);|&/gi, (all, entity?: string) => {
      if (entity === undefined) return fail('bare &');
      if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      return named[entity] ?? fail(`unknown entity ${all}`);
    });
  };
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) fail('declaration');
  i = xml.indexOf('?>') + 2;
  const skipSpace = () => {
    while (/\s/.test(xml[i] ?? '')) i++;
  };
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z_][\w.-]*/.exec(xml.slice(i))?.[0] ?? fail('element name');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      skipSpace();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      const attr = /^([A-Za-z_][\w.-]*)="([^"<]*)"/.exec(xml.slice(i)) ?? fail('attribute');
      if (attr[1]! in attrs) fail('repeated attribute');
      attrs[attr[1]!] = decode(attr[2]!);
      i += attr[0].length;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = xml.indexOf('<', i);
      if (next < 0) fail('unclosed element');
      text += decode(xml.slice(i, next));
      i = next;
      if (xml.startsWith(`</${name}>`, i)) {
        i += name.length + 3;
        return { name, attrs, children, text };
      }
      if (xml.startsWith('</', i)) fail(`mismatched end tag in ${name}`);
      children.push(element());
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

describe('JUnit XML', () => {
  const report = sampleReport();
  const xml = formatJUnit(report);
  const root = parseXml(xml);

  it('is well-formed, with the totals CI systems read', () => {
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '4', failures: '1', errors: '0', skipped: '2' });
    expect(root.children.map((s) => [s.attrs.name, s.attrs.tests, s.attrs.failures, s.attrs.skipped])).toEqual([
      ['conform.protocol', '1', '0', '1'],
      ['conform.broker', '3', '1', '1'],
    ]);
  });

  it('has one test case per path: a failure with the failing step, skips and known divergences as skipped', () => {
    const cases = root.children.flatMap((s) => s.children.filter((c) => c.name === 'testcase'));
    expect(cases.map((c) => c.attrs.name)).toEqual([
      report.paths[3]!.name,
      ...report.paths.slice(0, 3).map((p) => p.name),
    ]);
    const failed = cases.find((c) => c.attrs.name === report.paths[1]!.name)!;
    const failure = failed.children.find((c) => c.name === 'failure')!;
    // Text survives escaping; a control character XML cannot carry becomes U+FFFD.
    expect(failure.attrs.message).toBe(report.paths[1]!.reason!.replace('\u0001', '\ufffd'));
    expect(failure.text).toContain('1 fail       registered -> registered: BROKER_HEARTBEAT over connection 1');
    const skipped = cases
      .find((c) => c.attrs.name === report.paths[2]!.name)!
      .children.find((c) => c.name === 'skipped')!;
    expect(skipped.attrs.message).toBe('skipped: needs 120 s per expiry');
    const divergence = cases.find((c) => c.attrs.name === report.paths[3]!.name)!;
    expect(divergence.children.find((c) => c.name === 'skipped')!.attrs.message).toMatch(/^known divergence: /);
    const props = Object.fromEntries(
      divergence.children.find((c) => c.name === 'properties')!.children.map((p) => [p.attrs.name, p.attrs.value]),
    );
    expect(props).toMatchObject({
      'conform.verdict': 'divergence',
      'conform.divergence': 'java-unknown-request-code-unanswered',
      'conform.readOnly': 'true',
    });
  });

  it('fails the build when the run left brokers behind', () => {
    const left = parseXml(
      formatJUnit(
        sampleReport({
          cleanup: { brokers: 2, verified: false, detail: 'conform-abc123-b1@192.0.2.1:20000 is still registered' },
        }),
      ),
    );
    const cleanup = left.children.find((s) => s.attrs.name === 'conform.cleanup')!;
    expect(cleanup.attrs.failures).toBe('1');
    expect(cleanup.children[0]!.children[0]!.attrs.message).toContain('still registered');
  });
});

describe('terminal report', () => {
  it('lists each path, the reason under each that did not pass, and the totals last', () => {
    const text = formatTerminalReport(sampleReport(), { width: 100 });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('xnamesrv conform 0.1.0 against 10.0.0.5:9876');
    expect(text).toMatch(/^FAIL\s+broker: register c1 → expire <&"'>\s+1\/2\s+7\.0 s$/m);
    // A name longer than its column is cut with an ellipsis, so the line keeps to the width.
    expect(text).toMatch(
      /^DIVERGENCE\s+protocol: a request code the server does not serve is answered REQUE…\s+0\/1\s+3\.0 s$/m,
    );
    expect(text).toMatch(/^\s+known divergence: the Java name server never answers/m);
    expect(text).toMatch(/^\s+skipped: needs 120 s per expiry$/m);
    expect(lines.slice(0, -1).every((line) => line.length <= 100)).toBe(true);
    // The target's text cannot put control characters (escape sequences) on the terminal.
    expect(text).toContain('"y"\ufffd with');
    expect(lines.at(-1)).toBe(
      '4 paths: 1 passed, 1 failed, 1 known divergence, 1 skipped; clean-up: 3 brokers unregistered, none left; 10 s',
    );
  });

  it('with --problems-only leaves the passed paths out', () => {
    const text = formatTerminalReport(sampleReport(), { onlyProblems: true });
    expect(text).not.toMatch(/^PASS/m);
    expect(text).toMatch(/^FAIL/m);
  });
});

describe('verdict of a run', () => {
  it('succeeds only when nothing failed: skips and known divergences do not fail it, a failure or a left-behind broker does', () => {
    const report = sampleReport();
    expect(succeeded(report)).toBe(false);
    expect(succeeded({ ...report, paths: report.paths.filter((p) => p.verdict !== 'fail') })).toBe(true);
    expect(
      succeeded({
        ...report,
        paths: report.paths.filter((p) => p.verdict !== 'fail'),
        cleanup: { brokers: 1, verified: false },
      }),
    ).toBe(false);
    expect(succeeded({ ...report, paths: report.paths.filter((p) => p.verdict !== 'fail'), aborted: true })).toBe(
      false,
    );
  });
});

describe('progress bar', () => {
  it('redraws one line in place and clears it at the end', () => {
    let out = '';
    let now = 0;
    const bar = progressBar({ write: (t) => (out += t), columns: 80 }, () => now);
    bar.update({ kind: 'planned', total: 4, estimatedMs: 130_000, profile: profileOf('xnamesrv', '', 479, new Map()) });
    bar.update({
      kind: 'started',
      index: 0,
      total: 4,
      name: 'broker: register c1 → expire, a long name that does not fit',
    });
    now = 65_000;
    bar.update({ kind: 'finished', index: 0, total: 4, record: sampleReport().paths[1]! });
    bar.finish();
    const frames = out.split('\r\x1b[2K').filter(Boolean);
    expect(frames.at(-1)).toMatch(/^\[######\.+\] 1\/4 \(1 failed\) 1:05 of ~2:10 broker: register c1 → …$/);
    expect(frames.every((f) => f.length < 80)).toBe(true);
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });
});
