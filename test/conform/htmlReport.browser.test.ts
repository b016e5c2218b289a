import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChartAssets } from '../../src/conform/report/chartAssets.js';
import { formatHtml } from '../../src/conform/report/html.js';
import { formatJUnit } from '../../src/conform/report/junit.js';
import type { ConformReport } from '../../src/conform/results.js';
import { runConformance } from '../../src/conform/run/runner.js';
import { inProcessLauncher } from '../../src/conform/target/inProcess.js';
import { launchBrowser, openConsole, screenshot, type ConsolePage } from '../console/browser.js';
import { MUTANTS } from './mutants.js';
import { sampleReport } from './sampleReport.js';

/**
 * The HTML report in the console tests' real browser (Debian's chromium),
 * opened from a file as an operator would: it loads nothing from anywhere,
 * draws each path on its chart with the console's chart code, and colours
 * what the path found. The JUnit XML goes through the browser's strict XML
 * parser too.
 */
const WAIT = { timeout: 20_000 };
let browser: Browser;
let dir: string;
let report: ConformReport;

beforeAll(async () => {
  browser = await launchBrowser();
  dir = await mkdtemp(join(tmpdir(), 'xnamesrv-conform-report-'));
  // A real run with exactly one failure: the stale-unregister mutant (the broker paths and one
  // lifecycle configuration are enough to draw both charts; the rest is reported as not selected).
  const mutant = MUTANTS.find((m) => m.name.startsWith('stale unregister'))!;
  report = await runConformance({
    launcher: inProcessLauncher(mutant.options),
    only: (name) => name.startsWith('broker: ') || name.startsWith('lifecycle (wait, no target)'),
  });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

async function openReport(name: string, content: ConformReport): Promise<ConsolePage> {
  const file = join(dir, `${name}.html`);
  await writeFile(file, formatHtml(content, loadChartAssets()));
  const opened = await openConsole(browser, pathToFileURL(file).href);
  await opened.page.waitForFunction(() => document.body.dataset.charts !== 'loading', null, WAIT);
  return opened;
}

const classesOf = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((els) => els.map((e) => e.getAttribute('class') ?? ''));

describe('HTML report of a run against a faulty name server', () => {
  it(
    'draws the failed path on the broker chart: the state where it failed red, what it passed green, what it never ran grey',
    { timeout: 60_000 },
    async () => {
      const opened = await openReport('mutant', report);
      const { page } = opened;
      try {
        expect(await page.evaluate(() => document.body.dataset.charts)).toBe('ready');
        const failed = report.paths.find((p) => p.verdict === 'fail')!;
        expect(failed.name).toBe('broker: register c1 → register c2 → close c1 → heartbeat → close c2');
        const section = `details#path-${failed.id}`;
        expect(await page.locator(section).getAttribute('open')).not.toBeNull();
        await page.locator(`${section} svg.chart-svg`).waitFor(WAIT);
        expect(await classesOf(page, `${section} [data-state-id="broker.registered"]`)).toEqual([
          expect.stringMatching(/\bv-fail\b/),
        ]);
        // The registrations before the failure took the initial arrow and the REGISTER loop.
        expect(await classesOf(page, `${section} .edge[data-transition-id="initial:broker"]`)).toEqual([
          expect.stringMatching(/\bv-pass\b/),
        ]);
        // Steps after the failure never ran: the close of connection 2 would have led to disconnected.
        expect(await classesOf(page, `${section} [data-state-id="broker.disconnected"]`)).toEqual([
          expect.stringMatching(/\bv-skip\b/),
        ]);
        expect(await page.locator(`${section} ol.steps li.v-fail`).innerText()).toContain('close connection 1');
        await screenshot(page, 'conform-report-failed-path');

        // A passing path is drawn when opened, all in green.
        const passed = report.paths.find((p) => p.verdict === 'pass' && p.name === 'broker: register c1 → expire')!;
        const passing = `details#path-${passed.id}`;
        await page.locator(`${passing} > summary`).click();
        await page.locator(`${passing} svg.chart-svg`).waitFor(WAIT);
        expect(await classesOf(page, `${passing} [data-state-id="broker.expired"]`)).toEqual([
          expect.stringMatching(/\bv-pass\b/),
        ]);
        expect(await page.locator(`${passing} .v-fail, ${passing} .v-skip`).count()).toBe(0);

        // Every path is in the table, and the lifecycle paths draw on the name server chart.
        expect(await page.locator('#summary tbody tr').count()).toBe(report.paths.length);
        const lifecycle = report.paths.find((p) => p.group === 'lifecycle' && p.name.includes('wait passes'))!;
        await page.locator(`details#path-${lifecycle.id} > summary`).click();
        await page.locator(`details#path-${lifecycle.id} svg.chart-svg`).waitFor(WAIT);
        expect(
          await classesOf(page, `details#path-${lifecycle.id} [data-state-id="nameServer.waiting.holding"]`),
        ).toEqual([expect.stringMatching(/\bv-pass\b/)]);

        // Self-contained: the file and the blob modules it makes, nothing else.
        expect(opened.requests.filter((url) => !url.startsWith('file:') && !url.startsWith('blob:'))).toEqual([]);
        expect(opened.errors).toEqual([]);
      } finally {
        await opened.close();
      }
    },
  );

  it('shows a skipped path grey and a known divergence as such', { timeout: 60_000 }, async () => {
    const opened = await openReport('sample', sampleReport());
    const { page } = opened;
    try {
      expect(await page.evaluate(() => document.body.dataset.charts)).toBe('ready');
      expect(await page.locator('details#path-protocol-01').getAttribute('open')).not.toBeNull();
      expect(await page.locator('details#path-protocol-01 .reason').innerText()).toMatch(/^known divergence: /);
      await page.locator('details#path-broker-03 > summary').click();
      await page.locator('details#path-broker-03 svg.chart-svg').waitFor(WAIT);
      expect(await classesOf(page, 'details#path-broker-03 [data-state-id="broker.registered"]')).toEqual([
        expect.stringMatching(/\bv-skip\b/),
      ]);
      expect(await page.locator('details#path-broker-03 .v-pass').count()).toBe(0);
      // Text from the target is text, never markup.
      expect(await page.locator('details#path-broker-02 summary').innerText()).toContain('expire <&"\'>');
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('still reads when the charts cannot be drawn', { timeout: 60_000 }, async () => {
    const file = join(dir, 'nocharts.html');
    await writeFile(file, formatHtml(sampleReport(), { unavailable: 'the console page directory is missing' }));
    const opened = await openConsole(browser, pathToFileURL(file).href);
    try {
      expect(await opened.page.evaluate(() => document.body.dataset.charts)).toBe(
        'unavailable: the console page directory is missing',
      );
      expect(await opened.page.locator('details.path').count()).toBe(4);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});

describe('JUnit XML of the same run', () => {
  it("passes the browser's strict XML parser, one test case per path", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    try {
      const xml = formatJUnit(report);
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'application/xml');
        return {
          error: doc.getElementsByTagName('parsererror')[0]?.textContent ?? null,
          cases: doc.getElementsByTagName('testcase').length,
          failures: Array.from(doc.getElementsByTagName('failure')).map((f) => f.parentElement?.getAttribute('name')),
          tests: doc.documentElement.getAttribute('tests'),
        };
      }, xml);
      expect(parsed.error).toBeNull();
      expect(parsed.cases).toBe(report.paths.length);
      expect(parsed.tests).toBe(String(report.paths.length));
      expect(parsed.failures).toEqual(['broker: register c1 → register c2 → close c1 → heartbeat → close c2']);
    } finally {
      await page.close();
    }
  });
});
