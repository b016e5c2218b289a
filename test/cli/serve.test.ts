import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';

// `npm test` builds first; these tests run the real command as an operator would.
const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-cli-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const local = () => [
  '--data-dir',
  dataDir,
  '--listenPort',
  '0',
  '--httpPort',
  '0',
  '--bindAddress',
  '127.0.0.1',
  '--logLevel',
  'warn',
];

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
