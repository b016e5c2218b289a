import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import type { ConformReport } from '../../src/conform/results.js';
import { startNameServer, type StartedNameServer } from '../../src/index.js';

/** `xnamesrv conform` as the command line runs it, in-process: its words, its files and its exit codes. */
async function conform(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runConform(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xnamesrv-conform-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bad input: a message naming the problem, exit code 2, nothing run', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no target: give --target host:port/],
    [['--target', 'nameserver'], /--target: "nameserver" is not host:port/],
    [['--target', '127.0.0.1:9876', '--self'], /--target and --self exclude each other/],
    [
      ['--target', '127.0.0.1:9876', '--flavor', 'java'],
      /--flavor: expected one of xnamesrv, rocketmq-4, rocketmq-5, got "java"/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--wait-for-brokers', '2'],
      /--wait-for-brokers describes how the target was started: give --wait-seconds too/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--wait-seconds', '30', '--wait-timeout-seconds', '10'],
      /--wait-timeout-seconds \(10\) must be at least --wait-seconds \(30\)/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--wait-seconds', '30', '--wait-timeout-action', 'wait'],
      /--wait-timeout-action: expected serve or refuse/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--wait-seconds', '30', '--wait-for-broker-names', 'broker-a'],
      /--wait-for-broker-names: expected cluster\/brokerName entries/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--wait-seconds', '0', '--wait-for-brokers', '1'],
      /--wait-for-brokers needs a wait/,
    ],
    [
      ['--target', '127.0.0.1:9876', '--heartbeat-timeout', '10'],
      /--heartbeat-timeout: must be between 1000 and 3600000, got 10/,
    ],
    [['--target', '127.0.0.1:9876', '--paths', '('], /--paths: not a regular expression/],
    [['--target', '127.0.0.1:9876', '--junit'], /option --junit needs a value/],
    [['--target', '127.0.0.1:9876', '--colour'], /unknown option --colour/],
    [['--self', '--wait-seconds', '5'], /--wait-seconds describes a target someone started/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' ') || '(no arguments)', async () => {
      const result = await conform(argv);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("Run 'xnamesrv conform --help' for usage.");
      expect(result.stdout).toBe('');
    });
  }

  it('names a target that does not answer', async () => {
    const port = await freePort();
    const result = await conform(['--target', `127.0.0.1:${port}`, '--timeout', '500']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`the target at 127\\.0\\.0\\.1:${port} does not answer: .*ECONNREFUSED`));
  });
});

it('--help lists the options and the exit codes', async () => {
  const result = await conform(['--help']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^Usage: xnamesrv conform --target host:port \[options\]/);
  for (const option of ['--target', '--http', '--wait-seconds', '--long', '--junit', '--html', '--read-only'])
    expect(result.stdout).toContain(option);
  expect(result.stdout).toMatch(/Exit codes: 0 nothing failed/);
});

it('--self runs against an xnamesrv of its own and writes every report', { timeout: 60_000 }, async () => {
  const files = { junit: join(dir, 'self.xml'), html: join(dir, 'self.html'), json: join(dir, 'self.json') };
  const result = await conform([
    '--self',
    '--paths',
    '^broker: register c1 → (heartbeat|expire)$',
    '--junit',
    files.junit,
    '--html',
    files.html,
    '--json',
    files.json,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^PASS\s+broker: register c1 → expire\s+2\/2/m);
  expect(result.stdout).toMatch(/^SKIP\s+broker: register c1 → unregister/m);
  expect(result.stdout).toMatch(/paths: 2 passed, 0 failed, \d+ skipped; clean-up: 2 brokers unregistered, none left/);
  const report = JSON.parse(await readFile(files.json, 'utf8')) as ConformReport;
  expect(
    report.paths
      .filter((p) => p.verdict === 'pass')
      .map((p) => p.name)
      .sort(),
  ).toEqual(['broker: register c1 → expire', 'broker: register c1 → heartbeat']);
  expect(await readFile(files.junit, 'utf8')).toMatch(
    /<testcase classname="conform.broker" name="broker: register c1 → expire"/,
  );
  expect(await readFile(files.html, 'utf8')).toMatch(/^<!doctype html>/);
  for (const file of Object.values(files)) expect(result.stdout).toContain(`written to ${file}`);
});

describe('against a name server at an address (real time)', () => {
  let serving: StartedNameServer;
  let waiting: StartedNameServer;
  beforeAll(async () => {
    serving = await startNameServer({});
    // Started with a wait nobody told conform about: it refuses route reads.
    waiting = await startNameServer({ needWaitForService: true, waitSecondsForService: 600, waitTimeoutSeconds: 600 });
  });
  afterAll(async () => {
    await serving?.stop();
    await waiting?.stop();
  });

  it('passes, with --http as extra evidence, and exits 0', { timeout: 60_000 }, async () => {
    const result = await conform([
      '--target',
      serving.namesrvAddr,
      '--http',
      `127.0.0.1:${serving.httpPort}`,
      '--paths',
      'register c1 → (register c2 → close c1|heartbeat$)|protocol',
    ]);
    expect(result.stdout).toMatch(
      /^ {2}target: xnamesrv \(version \d+\.\d+\.\d+\), because GET_NAMESRV_CONFIG lists waitTimeoutAction/m,
    );
    expect(result.stdout).toMatch(/real time/);
    expect(result.stdout).toMatch(/^SKIP\s+lifecycle: wait, ready and never back \(apache\/rocketmq#9182\)/m);
    expect(result.stdout).toMatch(/^PASS\s+broker: register c1 → register c2 → close c1 → heartbeat → close c2/m);
    expect(result.stdout).toMatch(/ 0 failed/);
    expect(result.code).toBe(0);
  });

  it('fails a name server that refuses route reads, and exits 1', { timeout: 60_000 }, async () => {
    const result = await conform([
      '--target',
      waiting.namesrvAddr,
      '--paths',
      'protocol|^broker: register c1 → heartbeat$',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAIL\s+protocol: a route read of a topic nobody registered answers TOPIC_NOT_EXIST/m,
    );
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      'answered SYSTEM_ERROR "name server not ready", expected TOPIC_NOT_EXIST',
    );
    expect(result.stdout).toMatch(/^FAIL\s+broker: register c1 → heartbeat/m);
  });

  it(
    'runs one lifecycle tour on a target started just before, told how (--wait-seconds), in real time',
    { timeout: 60_000 },
    async () => {
      const fresh = await startNameServer({ needWaitForService: true, waitSecondsForService: 2 });
      try {
        const result = await conform([
          '--target',
          fresh.namesrvAddr,
          '--wait-seconds',
          '2',
          '--heartbeat-timeout',
          '1000',
          '--settle',
          '500',
          '--paths',
          '^lifecycle',
        ]);
        expect(result.stdout.replace(/\s+/g, ' ')).toContain(
          'lifecycle: one lifecycle tour on a target started just before the run: needWaitForService=true waitSecondsForService=2 (xnamesrv)',
        );
        expect(result.stdout).toMatch(
          /^PASS\s+lifecycle \(needWaitForService=true waitSecondsForService=2\) tour: started → register M →/m,
        );
        expect(result.code).toBe(0);
      } finally {
        await fresh.stop();
      }
    },
  );

  it("refuses xnamesrv's wait flags for a target that is not xnamesrv", async () => {
    const result = await conform([
      '--target',
      serving.namesrvAddr,
      '--flavor',
      'rocketmq-5',
      '--wait-seconds',
      '5',
      '--wait-for-brokers',
      '2',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--wait-for-brokers describe xnamesrv's wait target, but the target is rocketmq-5/);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
