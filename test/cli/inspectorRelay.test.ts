import { wsMessageText } from '../../src/util/wsText.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runInspector } from '../../src/cli/inspector.js';
import { killAll, localServerArgs, spawnCli, type SpawnedCli } from '../support/spawnedCli.js';
import { capture } from './support.js';

/** The README's inspector: `xnamesrv inspector --port 8080`, then `xnamesrv --inspect ws://127.0.0.1:8080`. */

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-relay-'));
});
afterEach(async () => {
  await killAll();
  await rm(dataDir, { recursive: true, force: true });
});

async function startRelay(): Promise<{ relay: SpawnedCli; url: string }> {
  const relay = spawnCli(['inspector', '--port', '0']);
  const match = await relay.until(/listening on (ws:\/\/127\.0\.0\.1:\d+)/);
  return { relay, url: match[1]! };
}

function startServer(inspectUrl: string): SpawnedCli {
  return spawnCli([...localServerArgs(dataDir), '--inspect', inspectUrl]);
}

describe('xnamesrv inspector', () => {
  it('prints the name server transitions it relays, and hands every message to receivers', async () => {
    const { relay, url } = await startRelay();
    // The receiver @statelyai/inspect offers, as a browser page would use it.
    const received: Array<{ type: string; sessionId: string; name?: string; snapshot?: { value?: unknown } }> = [];
    createWebSocketReceiver({ server: url }).subscribe((message) =>
      received.push(message as (typeof received)[number]),
    );
    await relay.until(/127\.0\.0\.1:\d+ connected/);

    const server = startServer(url);
    await relay.until(/^x:\d+ nameServer: snapshot ready \(after xstate\.done\.actor\.\S+\)$/m, 'stdout');
    expect(relay.stdout()).toMatch(/^x:\d+ nameServer: actor in starting$/m);
    expect(relay.stdout()).toMatch(/^x:\d+ nameServer: snapshot starting \(after xstate\.init\)$/m);

    const exit = await server.stop('SIGTERM');
    expect(exit.code).toBe(0);
    await relay.until(/inspector 127\.0\.0\.1:\d+ disconnected after \d+ message\(s\)/);
    expect(relay.stdout()).toMatch(/^x:\d+ nameServer: event STOP$/m);
    expect(relay.stdout()).toMatch(/^x:\d+ nameServer: snapshot stopping\.serving \(after STOP\)$/m);

    const session = received.find((m) => m.type === '@xstate.actor' && m.name === 'nameServer')?.sessionId;
    expect(session).toBeDefined();
    expect(
      received.some((m) => m.type === '@xstate.snapshot' && m.sessionId === session && m.snapshot?.value === 'ready'),
    ).toBe(true);

    const relayExit = await relay.stop('SIGTERM');
    expect(relayExit.code).toBe(0);
  });

  it('replays the known actors and latest events to a receiver that connects late', async () => {
    const { relay, url } = await startRelay();
    const server = startServer(url);
    await relay.until(/nameServer: snapshot ready/, 'stdout');
    const late = new WebSocket(url);
    const replayed: Array<{ type: string; name?: string }> = [];
    await new Promise<void>((resolve) => {
      late.on('message', (data) => {
        replayed.push(JSON.parse(wsMessageText(data)));
        if (replayed.some((m) => m.type === '@xstate.snapshot')) resolve();
      });
    });
    expect(replayed[0]).toMatchObject({ type: '@xstate.actor', name: 'nameServer' });
    late.close();
    expect((await server.stop()).code).toBe(0);
    expect((await relay.stop('SIGINT')).code).toBe(0);
  });

  it("runs as the README's commands say, through npx and offline", async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const commands = [...readme.matchAll(/^(npx xnamesrv [^#\n]*?)\s+#/gm)].map((m) => m[1]!.split(' '));
    expect(commands).toEqual([
      ['npx', 'xnamesrv', 'inspector', '--port', '8080'],
      ['npx', 'xnamesrv', '--inspect', 'ws://127.0.0.1:8080'],
    ]);
    const [inspectorCommand, serverCommand] = commands as [string[], string[]];
    // Only the fixed port and the server's own ports differ from what an operator types.
    const relay = spawnNpx(
      root,
      inspectorCommand.map((arg) => (arg === '8080' ? '0' : arg)),
    );
    const url = (await relay.until(/listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const server = spawnNpx(root, [
      ...serverCommand.map((arg) => (arg === 'ws://127.0.0.1:8080' ? url : arg)),
      ...localServerArgs(dataDir),
    ]);
    await relay.until(/^x:\d+ nameServer: snapshot ready /m, 'stdout');
    await server.interrupt();
    await relay.until(/inspector 127\.0\.0\.1:\d+ disconnected/);
    await relay.interrupt();
  });

  it('prints its usage with --help', async () => {
    const help = spawnCli(['inspector', '--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.stdout()).toContain('Usage: xnamesrv inspector [options]');
    expect(help.stdout()).toContain('--port <port>');
  });

  it.each([
    [['--port', 'eighty'], '--port: expected a whole number, got "eighty"'],
    [['--port', '70000'], '--port: must be between 0 and 65535, got 70000'],
    [['--port'], 'option --port needs a value'],
    [['--host', ''], '--host: expected an address'],
    [['--colour'], 'unknown option --colour'],
    [['8080'], 'unexpected argument "8080"'],
  ])('exits 2 on bad input %j', async (args, message) => {
    const out = capture();
    expect(await runInspector(args, out.io)).toBe(2);
    expect(out.stderr()).toContain(`xnamesrv inspector: ${message}`);
    expect(out.stderr()).toContain("Run 'xnamesrv inspector --help' for usage.");
  });

  it('exits 2 on bad input through the command too', async () => {
    const bad = spawnCli(['inspector', '--port', '-1']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain('xnamesrv inspector: --port: expected a whole number, got "-1"');
  });

  it('exits 1 naming the reason when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (blocker.address() as { port: number }).port;
      const relay = spawnCli(['inspector', '--port', String(taken)]);
      expect((await relay.exited).code).toBe(1);
      expect(relay.stderr()).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });
});

/**
 * A command as an operator types it, in its own process group, stopped as
 * Ctrl-C stops it: npx does not pass a lone SIGTERM on to the command.
 */
function spawnNpx(cwd: string, argv: string[]) {
  const [npx, ...args] = argv;
  const child = spawn(npx!, args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  const text = { stdout: '', stderr: '' };
  let wake = () => {};
  child.stdout.on('data', (d) => ((text.stdout += d), wake()));
  child.stderr.on('data', (d) => ((text.stderr += d), wake()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => ((ended = true), wake()));
  npxGroups.add(child.pid!);
  return {
    until(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stderr'): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        wake = () => {
          const match = pattern.exec(text[stream]);
          if (match) resolve(match);
          else if (ended)
            reject(new Error(`${argv.join(' ')} ended before ${stream} showed ${pattern}:\n${text.stderr}`));
        };
        wake();
      });
    },
    async interrupt() {
      process.kill(-child.pid!, 'SIGINT');
      const exit = await exited;
      npxGroups.delete(child.pid!);
      return exit;
    },
  };
}

const npxGroups = new Set<number>();
afterEach(() => {
  for (const group of npxGroups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  npxGroups.clear();
});
