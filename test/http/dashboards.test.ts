import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';

const DASHBOARD = fileURLToPath(new URL('../../docs/grafana/xnamesrv.json', import.meta.url));
const ALERTS = fileURLToPath(new URL('../../docs/prometheus/alerts.yml', import.meta.url));
const ALERT_TESTS = fileURLToPath(new URL('../../docs/prometheus/alerts.test.yml', import.meta.url));

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** Every metric name a file mentions: ours, and prom-client's Node and process series. */
function metricNamesIn(text: string): Set<string> {
  return new Set(text.match(/\b(?:xnamesrv|nodejs|process)_\w+/g) ?? []);
}

/** Metric name -> type, from the # TYPE lines of a scrape. */
function typesIn(scrape: string): Map<string, string> {
  return new Map([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** A name is exposed as itself, or as a series of an exposed histogram or summary. */
function isExposed(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const base = name.replace(HISTOGRAM_SERIES, '');
  return base !== name && (types.get(base) === 'histogram' || types.get(base) === 'summary');
}

/**
 * promtool ships in Debian's `prometheus` package; CI installs it (.ci/run).
 * Missing, the checks fail rather than skip: rules nobody checked are what
 * these tests exist to prevent.
 */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)('promtool', args, { timeout: 30_000 });
    return stdout + stderr;
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(
        'promtool is not installed: it comes with the Debian package "prometheus" (apt-get install -y prometheus)',
        { cause: err },
      );
    }
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, {
      cause: err,
    });
  }
}

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: { uid: string } }> };
}

const readDashboard = async () => JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;

describe('dashboard and alert rules name only metrics /metrics exposes', () => {
  let t: TestServer;
  let types: Map<string, string>;
  beforeAll(async () => {
    t = await startTestServer();
    types = typesIn((await t.http('/metrics')).text);
  });
  afterAll(() => t.stop());

  for (const [file, path, sample] of [
    ['docs/grafana/xnamesrv.json', DASHBOARD, 'nodejs_eventloop_lag_p99_seconds'],
    ['docs/prometheus/alerts.yml', ALERTS, 'xnamesrv_lifecycle_tag'],
  ] as const) {
    it(file, async () => {
      const names = metricNamesIn(await readFile(path, 'utf8'));
      expect(names, 'the name pattern found nothing: is it still the right one?').toContain(sample);
      expect([...names].filter((name) => !isExposed(name, types))).toEqual([]);
    });
  }
});

describe('docs/grafana/xnamesrv.json', () => {
  it('is importable: recent schema, a Prometheus data source variable and an instance variable', async () => {
    const dashboard = await readDashboard();
    expect(dashboard.uid).toBe('xnamesrv');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.get('instance')).toMatchObject({ type: 'query', datasource: { uid: '${datasource}' } });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.expr, `${panel.title} ${target.refId}`).toContain('instance=~"$instance"');
    }
  });

  it("has expressions promtool parses (as recording rules, Grafana's variables filled in)", async () => {
    const dashboard = await readDashboard();
    const rules = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        record: `dashboard:panel_${panel.id}_${target.refId}`,
        expr: target.expr
          .replaceAll('$__rate_interval', '5m')
          .replaceAll('$__range', '1h')
          .replaceAll('$instance', '.+'),
      })),
    );
    expect(rules.length).toBeGreaterThan(20);
    const dir = await mkdtemp(join(tmpdir(), 'xnamesrv-dashboard-'));
    try {
      // JSON is YAML, so the rule file needs no YAML writer.
      const file = join(dir, 'dashboard-rules.yml');
      await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      expect(await promtool('check', 'rules', file)).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/prometheus/alerts.yml', () => {
  it('passes promtool check rules', async () => {
    expect(await promtool('check', 'rules', ALERTS)).toContain('SUCCESS: 9 rules found');
  });

  it('passes its unit tests (alerts.test.yml: each alert fires, and stays quiet, on synthetic series)', async () => {
    expect(await promtool('test', 'rules', ALERT_TESTS)).toContain('SUCCESS');
  });

  it('tests every alert it defines', async () => {
    const alerts = [...(await readFile(ALERTS, 'utf8')).matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
    const tested = new Set(
      [...(await readFile(ALERT_TESTS, 'utf8')).matchAll(/^\s*alertname: (\w+)$/gm)].map((m) => m[1]),
    );
    expect(alerts.length).toBe(9);
    expect(alerts.filter((alert) => !tested.has(alert))).toEqual([]);
  });
});
