import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { registerBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { launchBrowser, openConsole, screenshot, type ConsolePage } from './browser.js';

/**
 * The console in a real browser (Debian's chromium) against running name
 * servers: what an operator sees as brokers come and go, checked through the
 * page's DOM (docs/console.md lists the hooks) and photographed at each step.
 */

const WAIT = { timeout: 10_000 };
const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };
const brokerB = { brokerName: 'broker-b', brokerAddr: '127.0.0.1:30911', topics: { TopicTest: {}, 'broker-b': {} } };
const keyOf = (broker: { brokerAddr: string }) => `DefaultCluster|${broker.brokerAddr}`;

let browser: Browser;
const servers: TestServer[] = [];
const pages: Array<ConsolePage & { allowedHosts: string[] }> = [];

beforeAll(async () => {
  browser = await launchBrowser();
}, 30_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const page of pages.splice(0)) {
    // Every page, whatever it did: no errors, and nothing requested outside the name servers it was pointed at.
    expect(page.errors, 'browser console errors').toEqual([]);
    const elsewhere = page.requests.filter((url) => !page.allowedHosts.includes(new URL(url).host));
    expect(elsewhere, 'requests to anything but the name servers shown').toEqual([]);
    await page.close();
  }
  for (const server of servers.splice(0)) await server.stop();
});

async function server(settings: Record<string, string | number | boolean | string[]> = {}): Promise<TestServer> {
  const t = await startTestServer(settings);
  servers.push(t);
  return t;
}

/** Opens the console of `t`; `others` are the other name servers it is pointed at, the only other hosts it may reach. */
async function open(t: TestServer, query = '', others: string[] = []): Promise<Page> {
  const opened = await openConsole(browser, `http://127.0.0.1:${t.server.httpPort}/${query}`);
  pages.push({ ...opened, allowedHosts: [`127.0.0.1:${t.server.httpPort}`, ...others] });
  await opened.page.locator('#connection-status', { hasText: 'connected' }).waitFor(WAIT);
  return opened.page;
}

function stateNode(page: Page, chart: 'nameServer' | 'broker', stateId: string) {
  return page.locator(`#chart-${chart} [data-state-id="${stateId}"]`);
}

async function expectLit(page: Page, chart: 'nameServer' | 'broker', stateId: string): Promise<void> {
  await expect
    .poll(async () => (await stateNode(page, chart, stateId).getAttribute('class')) ?? '', WAIT)
    .toMatch(/\bactive\b/);
}

function brokerCell(page: Page, broker: { brokerAddr: string }, ns: string) {
  return page.locator(`#brokers table tbody tr[data-broker-key="${keyOf(broker)}"] td[data-ns="${ns}"]`);
}

describe('console in a browser', () => {
  it('shows the wait lit, brokers as they register, ready once the target is met, and an expiry', async () => {
    const t = await server({
      needWaitForService: true,
      waitSecondsForService: 10,
      waitForBrokers: 2,
      waitTimeoutSeconds: 60,
      waitTimeoutAction: 'refuse',
    });
    const self = `127.0.0.1:${t.server.httpPort}`;
    const page = await open(t);

    await expectLit(page, 'nameServer', 'nameServer.waiting.holding');
    await expectLit(page, 'nameServer', 'nameServer.waiting');
    const wait = page.locator('#wait');
    await expect
      .poll(() => wait.locator('[data-field="routes"]').textContent(), WAIT)
      .toMatch(/^refused: waiting 10 s/);
    await expect
      .poll(() => wait.locator('[data-field="missing"]').textContent(), WAIT)
      .toContain('2 more live broker(s)');
    await expect.poll(() => wait.locator('[data-field="timeout-action"]').textContent(), WAIT).toContain('refuse');
    await expect.poll(() => wait.locator('[data-field="holding-countdown"]').textContent(), WAIT).toMatch(/\d/);
    await expect.poll(() => wait.locator('[data-field="timeout-countdown"]').textContent(), WAIT).toMatch(/\d/);
    await screenshot(page, '1-waiting');

    const tcp = await t.client();
    await registerBroker(tcp, { ...brokerA, heartbeatTimeoutMillis: 30_000 });
    await registerBroker(tcp, { ...brokerB, heartbeatTimeoutMillis: 12_000 });
    await expect.poll(() => brokerCell(page, brokerA, self).getAttribute('data-state'), WAIT).toBe('registered');
    await expect.poll(() => brokerCell(page, brokerB, self).getAttribute('data-state'), WAIT).toBe('registered');
    await screenshot(page, '2-brokers-registered');

    // The minimum wait ends: both brokers are live, so the server is ready at once.
    t.clock.increment(10_000);
    await expectLit(page, 'nameServer', 'nameServer.ready');
    await expect.poll(() => wait.locator('[data-field="routes"]').textContent(), WAIT).toMatch(/^served/);
    await screenshot(page, '3-ready');

    // broker-b stops heartbeating: expired, greyed but still listed; its chart shows where it ended.
    t.clock.increment(2_000);
    await expect.poll(() => brokerCell(page, brokerB, self).getAttribute('data-state'), WAIT).toBe('expired');
    await page.locator(`#brokers table tbody tr[data-broker-key="${keyOf(brokerB)}"]`).click();
    await expect.poll(() => page.locator('#chart-broker').getAttribute('data-broker-key'), WAIT).toBe(keyOf(brokerB));
    await expectLit(page, 'broker', 'broker.expired');
    expect(await page.locator('#log [data-seq]').count()).toBeGreaterThan(5);
    await screenshot(page, '4-broker-expired');
  }, 60_000);

  it('shows two name servers side by side and flags the broker only one of them has', async () => {
    const first = await server();
    const second = await server({ gatewayAllowedOrigins: [`http://127.0.0.1:${first.server.httpPort}`] });
    const a = `127.0.0.1:${first.server.httpPort}`;
    const b = `127.0.0.1:${second.server.httpPort}`;
    await registerBroker(await first.client(), brokerA);
    await registerBroker(await second.client(), brokerA);
    await registerBroker(await first.client(), brokerB);

    const page = await open(first, `?ns=${b}`, [b]);
    await expect
      .poll(() => page.locator(`#nameservers [data-ns="${b}"]`).getAttribute('data-connected'), WAIT)
      .toBe('true');
    await expect.poll(() => brokerCell(page, brokerA, b).getAttribute('data-state'), WAIT).toBe('registered');
    await expect.poll(() => brokerCell(page, brokerB, b).getAttribute('data-state'), WAIT).toBe('absent');
    expect(await brokerCell(page, brokerB, a).getAttribute('data-state')).toBe('registered');
    await page.locator('#chart-nameServer svg [data-state-id="nameServer.ready"]').waitFor(WAIT);
    const row = (broker: { brokerAddr: string }) =>
      page.locator(`#brokers table tbody tr[data-broker-key="${keyOf(broker)}"]`);
    await expect.poll(() => row(brokerB).getAttribute('data-divergent'), WAIT).toBe('true');
    expect(await row(brokerA).getAttribute('data-divergent')).toBe('false');
    await screenshot(page, '5-two-name-servers');

    // Every request stayed with the two name servers (checked for every page after each test).
    expect(new Set(pages.at(-1)!.requests.map((url) => new URL(url).host))).toEqual(new Set([a, b]));
  }, 60_000);

  it('offers no control without the token; a wrong token is refused and changes nothing', async () => {
    const t = await server({ gatewayToken: 'right-token' });
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const page = await open(t);
    expect(await page.locator('[data-control]').count()).toBe(0);

    await page.locator('#token-input').fill('wrong-token');
    await page.locator('#token-apply').click();
    await expect.poll(() => page.locator('#control-result').getAttribute('class'), WAIT).toMatch(/\brefused\b/);
    expect(await page.locator('[data-control]').count()).toBe(0);
    await page.locator('#chart-nameServer svg [data-state-id="nameServer.ready"]').waitFor(WAIT);
    await screenshot(page, '6-token-refused');
    const route = await tcp.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicTest' });
    expect(route.code).toBe(ResponseCode.SUCCESS);
    expect(route.body!.toString()).toContain('"perm":6');

    // The token never lands in the URL or in storage.
    await page.locator('#token-input').fill('right-token');
    await page.locator('#token-apply').click();
    await page.locator('[data-control="wipeWritePerm"]').first().waitFor(WAIT);
    expect(page.url()).not.toContain('right-token');
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie,
    );
    expect(stored).not.toContain('right-token');
  }, 60_000);
});
