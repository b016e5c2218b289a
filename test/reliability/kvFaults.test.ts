import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { writeFileAtomic } from '../../src/util/atomicFile.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { LEVEL } from '../support/logCapture.js';
import { localServerArgs, startCli } from '../support/spawnedCli.js';
import { startObservedServer, type ObservedServer } from './support.js';

/**
 * The KV store when the disk fails under it, and when the process dies in
 * the middle of writing. A write that cannot be persisted answers
 * SYSTEM_ERROR with the reason, reads and routing carry on, /readyz says the
 * store is degraded (still 200: routes are served), and nothing already
 * stored is lost. A name server killed with SIGKILL during a stream of
 * writes restarts with an intact file holding every acknowledged write.
 */

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicA: {}, 'broker-a': {} } };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xnamesrv-kvfault-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function put(client: RemotingClient, key: string, value: string) {
  return client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key, value });
}

function get(client: RemotingClient, key: string) {
  return client.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key });
}

async function metric(t: ObservedServer, name: string): Promise<number> {
  const { text } = await t.http('/metrics');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** What a failing disk looks like to a writer: the OS error, code and all. */
function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
  });
}

/**
 * Runs with the store failing: `storedFile` reads what is on disk meanwhile
 * (the file may have been moved aside by the fault); `heal` ends the fault.
 */
async function expectDegradedThenRecovered(
  t: ObservedServer,
  client: RemotingClient,
  reason: RegExp,
  storedFile: () => Promise<string>,
  heal: () => Promise<void>,
): Promise<void> {
  const kvPath = t.server.config.get().kvConfigPath;
  const fileBefore = await storedFile();
  expect(JSON.parse(fileBefore)).toEqual({ configTable: { ns: { k1: 'v1' } } });

  const refused = await put(client, 'k2', 'new');
  expect(refused.code).toBe(ResponseCode.SYSTEM_ERROR);
  expect(refused.remark).toMatch(/^KV config not stored: cannot write /);
  expect(refused.remark).toMatch(reason);
  const notDeleted = await client.invoke(RequestCode.DELETE_KV_CONFIG, { namespace: 'ns', key: 'k1' });
  expect(notDeleted.code).toBe(ResponseCode.SYSTEM_ERROR);
  expect(notDeleted.remark).toMatch(/^KV config not deleted: /);

  // Reads and routing carry on; nothing already stored is lost, nothing refused appears.
  expect((await get(client, 'k1')).extFields?.value).toBe('v1');
  expect((await get(client, 'k2')).code).toBe(ResponseCode.QUERY_NOT_FOUND);
  expect((await getRoute(client, 'TopicA')).code).toBe(ResponseCode.SUCCESS);
  expect(
    (
      await registerBroker(client, {
        ...brokerA,
        brokerName: 'broker-b',
        brokerAddr: '127.0.0.1:30911',
        topics: { TopicB: {}, 'broker-b': {} },
      })
    ).code,
  ).toBe(ResponseCode.SUCCESS);
  expect(await storedFile()).toBe(fileBefore);

  // Readiness: still ready (routes are served), flagged degraded with the reason.
  const ready = await t.http('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body.degraded).toBe(true);
  expect(ready.body.degradedReasons.join('\n')).toMatch(reason);
  expect(ready.body.degradedReasons[0]).toMatch(/^KV store: cannot write /);
  expect(await metric(t, 'xnamesrv_kv_store_degraded')).toBe(1);
  expect(await metric(t, 'xnamesrv_kv_write_failures_total')).toBe(2);
  expect(t.lines.filter((l) => l.level === LEVEL.error && /not persisted/.test(l.msg)).length).toBe(2);
  // The gateway's view says the same, and a gateway write is refused the same way.
  const { client: ws } = await t.open({ token: 'kv-fault-token' });
  expect((await ws.request('getLifecycle')).result.degraded.join('\n')).toMatch(reason);
  expect(await ws.request('putKv', { namespace: 'ns', key: 'k3', value: 'x' })).toMatchObject({
    type: 'error',
    code: 'remoting_error',
    remotingCodeName: 'SYSTEM_ERROR',
  });

  await heal();
  expect((await put(client, 'k2', 'new')).code).toBe(ResponseCode.SUCCESS);
  const healed = await t.http('/readyz');
  expect(healed.body).toMatchObject({ degraded: false, degradedReasons: [] });
  expect(await metric(t, 'xnamesrv_kv_store_degraded')).toBe(0);
  expect(JSON.parse(await readFile(kvPath, 'utf8'))).toEqual({ configTable: { ns: { k1: 'v1', k2: 'new' } } });
}

describe('KV store on a failing disk', () => {
  it('disk full: writes answer SYSTEM_ERROR with the reason, reads and routing continue, readiness says degraded, nothing is lost', async () => {
    let diskFull = false;
    const writer = async (path: string, data: string) => {
      if (diskFull) throw enospc();
      await writeFileAtomic(path, data);
    };
    const t = await startObservedServer({ gatewayToken: 'kv-fault-token' }, { kvWriteFile: writer });
    cleanups.push(() => t.stop());
    const client = await t.client();
    await registerBroker(client, brokerA);
    expect((await put(client, 'k1', 'v1')).code).toBe(ResponseCode.SUCCESS);
    diskFull = true;
    const kvPath = t.server.config.get().kvConfigPath;
    await expectDegradedThenRecovered(
      t,
      client,
      /ENOSPC: no space left on device/,
      () => readFile(kvPath, 'utf8'),
      async () => {
        diskFull = false;
      },
    );
  });

  it('data directory gone (its entry replaced by a file): the same, and a restart finds every stored value', async () => {
    const dataDir = await tempDir();
    const kvDir = join(dataDir, 'kv');
    const t = await startObservedServer(
      { gatewayToken: 'kv-fault-token', kvConfigPath: join(kvDir, 'kvConfig.json') },
      { dataDir },
    );
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await t.stop();
    });
    const client = await t.client();
    await registerBroker(client, brokerA);
    expect((await put(client, 'k1', 'v1')).code).toBe(ResponseCode.SUCCESS);

    // Tests run as root, so permissions would not stop the write: take the directory away instead.
    await rename(kvDir, `${kvDir}.moved`);
    await writeFile(kvDir, 'not a directory');
    await expectDegradedThenRecovered(
      t,
      client,
      /(EEXIST|ENOTDIR)/,
      () => readFile(join(`${kvDir}.moved`, 'kvConfig.json'), 'utf8'),
      async () => {
        await rm(kvDir);
        await rename(`${kvDir}.moved`, kvDir);
      },
    );
    await t.stop();
    stopped = true;

    const restarted = await startObservedServer({ kvConfigPath: join(kvDir, 'kvConfig.json') }, { dataDir });
    cleanups.push(() => restarted.stop());
    const again = await restarted.client();
    expect((await get(again, 'k1')).extFields?.value).toBe('v1');
    expect((await get(again, 'k2')).extFields?.value).toBe('new');
  });
});

describe('a name server killed with SIGKILL during a stream of KV writes', () => {
  it('restarts with an intact file that holds every acknowledged write', async () => {
    const dataDir = await tempDir();
    const args = localServerArgs(dataDir);
    const first = await startCli(args);
    cleanups.push(async () => void first.child.kill('SIGKILL'));
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: first.remotingPort });

    const acknowledged = new Map<string, string>();
    let lastCounter = -1;
    let sent = 0;
    let killed = false;
    const KILL_AFTER = 120;
    const CONCURRENCY = 16;
    await new Promise<void>((resolve) => {
      const sendNext = (): void => {
        if (killed) return;
        const i = sent++;
        const key = `key-${i}`;
        const value = `value-${i}-${'x'.repeat(i % 50)}`;
        // Every write also bumps one counter key: what was acknowledged last must not be older on disk.
        const counter = client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'counter', key: 'n', value: String(i) });
        const own = put(client, key, value);
        void Promise.all([own, counter]).then(
          ([ownAnswer, counterAnswer]) => {
            if (ownAnswer.code === ResponseCode.SUCCESS) acknowledged.set(key, value);
            if (counterAnswer.code === ResponseCode.SUCCESS) lastCounter = Math.max(lastCounter, i);
            if (!killed && acknowledged.size >= KILL_AFTER) {
              killed = true;
              first.child.kill('SIGKILL');
              resolve();
              return;
            }
            sendNext();
          },
          () => {
            // Requests caught by the kill never answer: they were not acknowledged.
            if (killed) resolve();
          },
        );
      };
      for (let i = 0; i < CONCURRENCY; i++) sendNext();
    });
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    await client.close().catch(() => undefined);
    expect(sent).toBeGreaterThan(KILL_AFTER);

    const kvPath = join(dataDir, 'kvConfig.json');
    const file = JSON.parse(await readFile(kvPath, 'utf8')) as { configTable: Record<string, Record<string, string>> };
    for (const [key, value] of acknowledged) expect(file.configTable.ns?.[key], key).toBe(value);
    expect(Number(file.configTable.counter?.n)).toBeGreaterThanOrEqual(lastCounter);

    const second = await startCli(args);
    cleanups.push(async () => void second.child.kill('SIGKILL'));
    const reader = await RemotingClient.connect({ host: '127.0.0.1', port: second.remotingPort });
    const list = await reader.invoke(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'ns' });
    const table = JSON.parse(list.body!.toString('utf8')).table as Record<string, string>;
    for (const [key, value] of acknowledged) expect(table[key], key).toBe(value);
    // Temporary files of the killed process's interrupted write, if any, are gone.
    expect((await readdir(dataDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    await reader.close();
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

describe('temporary files of an interrupted write', () => {
  it("are removed at the next start when their process is gone; another live process's are left alone", async () => {
    const dataDir = await tempDir();
    await writeFile(join(dataDir, 'kvConfig.json'), '{"configTable":{"ns":{"k":"v"}}}');
    // pid 2^22+1 is above Linux's pid_max: no such process.
    const stale = `.kvConfig.json.${2 ** 22 + 1}.0123456789ab.tmp`;
    const ownPid = `.kvConfig.json.${process.pid}.ba9876543210.tmp`;
    const unrelated = '.kvConfig.json.notes.tmp';
    for (const name of [stale, ownPid, unrelated])
      await writeFile(join(dataDir, name), '{"configTable":{"ns":{"k":"half');
    // This test process stands in for another live writer: the server below runs in it too, so pretend with the parent's pid.
    const other = `.kvConfig.json.${process.ppid}.abcdefabcdef.tmp`;
    await writeFile(join(dataDir, other), '{');
    const t = await startObservedServer({}, { dataDir });
    cleanups.push(() => t.stop());
    const left = (await readdir(dataDir)).filter((name) => name.endsWith('.tmp')).sort();
    // The server's own pid counts as gone: after a restart the same pid is a different process.
    expect(left).toEqual([other, unrelated].sort());
    expect(t.lines.filter((l) => /removed a temporary KV file/.test(l.msg)).length).toBe(2);
    expect((await get(await t.client(), 'k')).extFields?.value).toBe('v');
  });
});
