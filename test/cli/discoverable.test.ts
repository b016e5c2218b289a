import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runAdmin } from '../../src/cli/admin.js';
import { runSimulator } from '../../src/cli/sim.js';
import { killAll, spawnCli } from '../support/spawnedCli.js';
import { capture, CLOSED_ADDR } from './support.js';

/**
 * The command line as a new user finds it: `--help` names every subcommand,
 * `--version` answers, `admin help` and `sim --help` work, and a simulator
 * that never got a broker registered does not report success.
 * (`npm test` builds first: these spawn dist/src/cli/main.js.)
 */

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

afterEach(killAll);

async function run(args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli(args, env);
  const exit = await cli.exited;
  return { code: exit.code, out: cli.stdout(), err: cli.stderr() };
}

describe('xnamesrv --help and --version', () => {
  it.each([['--help'], ['-h'], ['help']])(
    '%s lists every subcommand with one line each, then the server options',
    async (flag) => {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      for (const command of ['admin', 'sim', 'conform', 'inspector', 'help']) {
        expect(r.out.split('\n').filter((line) => line.startsWith(`  xnamesrv ${command} `))).toHaveLength(1);
      }
      expect(r.out).toContain('xnamesrv --version, -v');
      // The server's own options follow.
      expect(r.out).toContain('Usage: xnamesrv [options]');
      expect(r.out).toContain('--configFile <file>');
      expect(r.out.indexOf('xnamesrv admin')).toBeLessThan(r.out.indexOf('--configFile'));
    },
  );

  it.each([['--version'], ['-v']])('%s prints the version from package.json', async (flag) => {
    const r = await run([flag]);
    expect(r).toEqual({ code: 0, out: `xnamesrv ${version}\n`, err: '' });
  });

  it("help <command> prints that command's help; an unknown one is exit 2", async () => {
    const sim = await run(['help', 'sim']);
    expect(sim.code).toBe(0);
    expect(sim.out).toContain('Usage: xnamesrv sim [options]');
    const admin = await run(['help', 'admin', 'topicRoute']);
    expect(admin.code).toBe(0);
    expect(admin.out).toContain('Usage: xnamesrv admin topicRoute -t <topic>');
    const unknown = await run(['help', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no help for "frobnicate"');
  });

  it('xnamesrv admin help and xnamesrv sim --help work from the command line', async () => {
    const admin = await run(['admin', 'help']);
    expect(admin.code).toBe(0);
    expect(admin.out).toContain('Usage: xnamesrv admin <command> [options]');
    const sim = await run(['sim', '--help']);
    expect(sim.code).toBe(0);
    expect(sim.out).toContain('--duration <seconds>');
  });
});

describe('xnamesrv admin help [command]', () => {
  async function admin(argv: string[]) {
    const c = capture();
    const code = await runAdmin(argv, {}, c.io);
    return { code, out: c.stdout(), err: c.stderr() };
  }

  it("lists the commands under mqadmin's names, with mqadmin's names for the kv commands", async () => {
    const r = await admin(['help']);
    expect(r.code).toBe(0);
    for (const name of [
      'clusterList',
      'topicRoute',
      'topicList',
      'topicClusterList',
      'getNamesrvConfig',
      'updateNamesrvConfig',
      'wipeWritePerm',
      'addWritePerm',
      'deleteTopic',
      'watch',
    ]) {
      expect(r.out).toContain(`  ${name} `);
    }
    expect(r.out).toMatch(/ {2}kv put .*mqadmin: updateKvConfig/);
    expect(r.out).toMatch(/ {2}kv delete .*mqadmin: deleteKvConfig/);
  });

  it.each([
    [['help', 'wipeWritePerm'], 'Usage: xnamesrv admin wipeWritePerm -b <brokerName>'],
    [['help', 'kv', 'put'], 'Usage: xnamesrv admin kv put -s <namespace> -k <key> -v <value>'],
    [['help', 'updateKvConfig'], 'xnamesrv admin updateKvConfig -s <namespace> -k <key> -v <value>'],
  ])("%j prints that command's usage", async (argv, usage) => {
    const r = await admin(argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(usage);
  });

  it('an unknown command is exit 2 with a guess', async () => {
    const r = await admin(['help', 'topicroute']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "topicroute" (did you mean topicRoute?)');
  });
});

describe('xnamesrv sim when no broker ever registers', () => {
  it('exits 1 with a message naming the failures', async () => {
    const c = capture();
    const code = await runSimulator(['-n', CLOSED_ADDR, '--duration', '0.2', '--brokers', '1'], {}, c.io);
    expect(code).toBe(1);
    const last = c.stderr().trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(
      /^xnamesrv sim: no broker ever registered: 1 registration\(s\) sent, none acknowledged \(last: 127\.0\.0\.1:1: connection refused/,
    );
    expect(last).toContain('listenPort, default 9876');
  });

  it('the spawned command exits 1 too', async () => {
    const r = await run(['sim', '-n', CLOSED_ADDR, '--duration', '0.5']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no broker ever registered');
  });
});
