import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { localServerArgs, spawnCli } from '../support/spawnedCli.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the command to its end; `onStdout` sees all of stdout so far at each chunk. */
async function run(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ChildProcess) => void,
): Promise<Run> {
  const cli = spawnCli(args, env);
  if (onStdout) cli.child.stdout?.on('data', () => onStdout(cli.stdout(), cli.child));
  const exit = await cli.exited;
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-cli-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const local = () => localServerArgs(dataDir);

describe('xnamesrv command', () => {
  it('exits 2 naming an unknown key', async () => {
    const result = await run([...local(), '--listenPrt', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('listenPrt');
  });

  it('exits 2 on a contradictory wait configuration', async () => {
    const result = await run([...local(), '--waitForBrokers', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('waitForBrokers');
  });

  it('prints the effective configuration with -p, secrets masked', async () => {
    const result = await run([...local(), '-p', '--gatewayToken', 'hunter2'], {
      XNAMESRV_WAIT_SECONDS_FOR_SERVICE: '7',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^waitSecondsForService=7$/m);
    expect(result.stdout).toMatch(/^gatewayToken=\*\*\*\*\*\*$/m);
    expect(result.stdout).not.toContain('hunter2');
  });

  it('serves, then stops cleanly on SIGTERM with exit code 0', async () => {
    let port = 0;
    let sent = false;
    const result = await run(local(), {}, (text, child) => {
      const match = /remoting on [^:]+:(\d+)/.exec(text);
      if (match && !sent) {
        sent = true;
        port = Number(match[1]);
        void (async () => {
          const client = await RemotingClient.connect({ host: '127.0.0.1', port });
          const response = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicTest' });
          expect(response.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
          await client.close();
          child.kill('SIGTERM');
        })();
      }
    });
    expect(port).toBeGreaterThan(0);
    expect(result.code).toBe(0);
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const args = local();
      args[args.indexOf('--listenPort') + 1] = String(taken);
      const result = await run(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });
});
