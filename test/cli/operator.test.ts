import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { registerBroker } from '../support/broker.js';
import { killAll, localServerArgs, MAIN, portsOf, spawnCli, type SpawnedCli } from '../support/spawnedCli.js';

/**
 * The command as an operator runs it: signals like the JVM's, stderr that is
 * only log lines (JSON or pretty), a rotated log file that is complete when
 * the process exits, and runtime settings that survive a restart.
 */

/** The spawned command with the ports it printed. */
type Cli = SpawnedCli & { ports(): Promise<{ remoting: number; http: number }> };

function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const cli = spawnCli(args, env);
  return Object.assign(cli, { ports: () => portsOf(cli) });
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-operator-'));
});
afterEach(async () => {
  await killAll();
  await rm(dataDir, { recursive: true, force: true });
});

const local = (level = 'info') => localServerArgs(dataDir, level);

function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/**
 * A gateway client that completes the WebSocket upgrade and then never
 * answers: the name server's stop waits for it (up to its 2 s grace) after
 * sending the close frame, which `closeFrame` reports.
 */
async function unresponsiveGatewayClient(httpPort: number): Promise<{ socket: Socket; closeFrame: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port: httpPort });
  socket.on('error', () => undefined);
  let buffer = Buffer.alloc(0);
  let upgraded: () => void;
  const upgradedP = new Promise<void>((resolve) => (upgraded = resolve));
  let sawClose: () => void;
  const closeFrame = new Promise<void>((resolve) => (sawClose = resolve));
  let handshakeDone = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!handshakeDone) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(buffer.subarray(0, end).toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
      buffer = buffer.subarray(end + 4);
      handshakeDone = true;
      upgraded();
    }
    // Server frames are unmasked: opcode in byte 0, length in byte 1 (126/127: extended).
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x8) sawClose();
    }
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await upgradedP;
  return { socket, closeFrame };
}

describe('signals', () => {
  it('SIGHUP runs the graceful stop, as SIGTERM does, and exits 0', async () => {
    const cli = startCli(local());
    await cli.ports();
    cli.child.kill('SIGHUP');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const lines = jsonLines(cli.stderr());
    expect(
      lines.find((l) => l.msg === 'SIGHUP received: stopping gracefully (another signal exits at once)'),
    ).toMatchObject({ level: 30, signal: 'SIGHUP' });
    expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ reason: 'signal SIGHUP' });
    expect(lines.at(-1)).toMatchObject({ msg: 'name server stopping.serving -> stopped' });
  });

  it('a second signal during the stop exits at once with 128 + its number, and says why', async () => {
    const cli = startCli(local());
    const { http } = await cli.ports();
    const { socket, closeFrame } = await unresponsiveGatewayClient(http);
    try {
      cli.child.kill('SIGTERM');
      // The stop is now waiting for this client to complete the close, which it never does.
      await closeFrame;
      cli.child.kill('SIGINT');
      expect(await cli.exited).toEqual({ code: 130, signal: null });
    } finally {
      socket.destroy();
    }
    const lines = jsonLines(cli.stderr());
    const forced = lines.filter((l) => l.level === 60);
    expect(forced).toEqual([
      expect.objectContaining({
        signal: 'SIGINT',
        firstSignal: 'SIGTERM',
        exitCode: 130,
        state: 'stopping',
        msg: expect.stringMatching(/^SIGINT received while stopping \(after SIGTERM\): exiting now with code 130/),
      }),
    ]);
    expect(lines.some((l) => l.msg === 'name server stopping.serving -> stopped')).toBe(false);
  });
});

describe('log output', () => {
  it('stderr carries only JSON log lines; the start-up line is on stdout', async () => {
    const cli = startCli(local());
    const { remoting } = await cli.ports();
    expect(cli.stdout()).toMatch(/^xnamesrv: remoting on 127\.0\.0\.1:\d+, http on 127\.0\.0\.1:\d+, state ready\n$/);
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: remoting });
    await registerBroker(client, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10911',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    await client.close();
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    const lines = jsonLines(cli.stderr());
    expect(lines.length).toBeGreaterThan(5);
    // Unset tokens are shown as unset.
    expect(lines.find((l) => l.msg === 'effective configuration')!.config).toMatchObject({
      adminToken: '',
      gatewayToken: '',
    });
  });

  it('--logFormat pretty writes human-readable lines', async () => {
    const cli = startCli([...local(), '--logFormat', 'pretty']);
    await cli.ports();
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    const lines = cli.stderr().trimEnd().split('\n');
    for (const line of lines)
      expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): /);
    expect(lines).toContainEqual(
      expect.stringMatching(/\] INFO: name server starting -> ready \{"from":"starting","to":"ready",/),
    );
    // Not a terminal: no colours.
    expect(cli.stderr()).not.toContain('\u001b[');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('auto (the default) writes pretty, coloured lines when stderr is a terminal', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      // script(1) gives the command a pseudo-terminal; a taken port makes it log and exit at once.
      const command = [process.execPath, MAIN, ...local(), '--listenPort', String(taken)]
        .map((a) => `'${a}'`)
        .join(' ');
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      expect(out).toMatch(/\] \u001b\[41mFATAL\u001b\[49m: \u001b\[36mname server failed to start: listen EADDRINUSE/);
      expect(out).not.toContain('{"level":');
    } finally {
      blocker.close();
    }
  });

  it('--logFile writes JSON lines, rotated by size, complete when the process has exited', async () => {
    const logFile = join(dataDir, 'logs', 'namesrv.log');
    const cli = startCli([...local('debug'), '--logFile', logFile, '--logFileMaxSize', '2048', '--logFileCount', '2']);
    const { remoting } = await cli.ports();
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: remoting });
    // Enough lines for several 2 KiB files however the writer thread batches them
    // (ten registrations sometimes came out as only three rotations).
    for (let i = 0; i < 30; i++) {
      await registerBroker(client, {
        brokerName: `broker-${i}`,
        brokerAddr: `127.0.0.1:${11_000 + i}`,
        topics: { TopicA: {}, [`broker-${i}`]: {} },
      });
    }
    await client.close();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });

    const dir = join(dataDir, 'logs');
    const numbered = (await readdir(dir))
      .map((name) => /^namesrv\.(\d+)\.log$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    // Rotated several times, and only the newest files kept: logFileCount rotated ones besides the one in use.
    expect(numbered.at(-1)).toBeGreaterThan(3);
    expect(numbered.length).toBeLessThanOrEqual(3);
    expect(numbered[0]).toBeGreaterThan(1);
    expect(await readlink(join(dir, 'current.log'))).toBe(`namesrv.${numbered.at(-1)}.log`);
    let text = '';
    for (const n of numbered) text += await readFile(join(dir, `namesrv.${n}.log`), 'utf8');
    const lines = jsonLines(text);
    // The last line of the run is in the file: the writer thread was flushed before the exit.
    expect(lines.at(-1)).toMatchObject({ msg: 'name server stopping.serving -> stopped' });
    expect(lines.some((l) => l.msg === 'broker transition' && l.level === 20)).toBe(true);
  });

  it('a log level changed at runtime applies to stderr and the log file', async () => {
    const logFile = join(dataDir, 'namesrv.log');
    const cli = startCli([...local('info'), '--logFile', logFile]);
    const { remoting } = await cli.ports();
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: remoting });
    await registerBroker(client, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10911',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    const update = await client.invoke(RequestCode.UPDATE_NAMESRV_CONFIG, null, Buffer.from('logLevel=debug\n'));
    expect(update.code).toBe(ResponseCode.SUCCESS);
    await registerBroker(client, {
      brokerName: 'broker-b',
      brokerAddr: '127.0.0.1:10921',
      topics: { TopicA: {}, 'broker-b': {} },
    });
    await client.close();
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);

    const fromFile = jsonLines(await readFile(join(dataDir, 'namesrv.1.log'), 'utf8'));
    for (const lines of [jsonLines(cli.stderr()), fromFile]) {
      const debug = lines.filter((l) => l.level === 20 && l.msg === 'broker transition' && l.to === 'registered');
      // broker-b's registration, after the update; not broker-a's, before it.
      expect(debug.map((l) => l.actor)).toContain('DefaultCluster|127.0.0.1:10921');
      expect(debug.map((l) => l.actor)).not.toContain('DefaultCluster|127.0.0.1:10911');
    }
  });

  it('a log file that cannot be created stops the start with the reason, exit 1', async () => {
    // A regular file where the log directory should be.
    const blocker = join(dataDir, 'not-a-directory');
    await writeFile(blocker, '');
    const cli = startCli([...local(), '--logFile', join(blocker, 'namesrv.log')]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toMatch(
      /^xnamesrv: failed to start: cannot write the log file .*not-a-directory\/namesrv\.log: (ENOTDIR|EEXIST)/,
    );
  });
});

describe('runtime settings survive a restart', () => {
  it('under --data-dir, what UPDATE_NAMESRV_CONFIG changed is read back from <dataDir>/namesrv.properties', async () => {
    const first = startCli(local());
    const { remoting } = await first.ports();
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: remoting });
    const update = await client.invoke(
      RequestCode.UPDATE_NAMESRV_CONFIG,
      null,
      Buffer.from('orderMessageEnable=true\nenableTopicList=false\n'),
    );
    expect(update.code).toBe(ResponseCode.SUCCESS);
    await client.close();
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(join(dataDir, 'namesrv.properties'))).toBe(true);

    const second = startCli(local());
    const ports = await second.ports();
    const reader = await RemotingClient.connect({ host: '127.0.0.1', port: ports.remoting });
    const config = (await reader.invoke(RequestCode.GET_NAMESRV_CONFIG)).body!.toString('utf8');
    expect(config).toMatch(/^orderMessageEnable=true$/m);
    expect(config).toMatch(/^enableTopicList=false$/m);
    await reader.close();
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const restored = jsonLines(second.stderr()).find((l) => l.msg.startsWith('runtime settings restored'));
    expect(restored).toMatchObject({
      level: 30,
      path: join(dataDir, 'namesrv.properties'),
      keys: ['enableTopicList', 'orderMessageEnable'],
      values: { enableTopicList: 'false', orderMessageEnable: 'true' },
    });
  });
});
