import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KvStore, serializeTable } from '../../src/kv/kvStore.js';
import { writeFileAtomic } from '../../src/util/atomicFile.js';

const ORDER = 'ORDER_TOPIC_CONFIG';
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xnamesrv-kv-'));
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function loaded(path: string, options: Partial<ConstructorParameters<typeof KvStore>[0]> = {}): Promise<KvStore> {
  const store = new KvStore({ path, ...options });
  const result = await store.load();
  if (!result.ok) throw new Error(result.error);
  return store;
}

async function onDisk(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

function memoryOf(store: KvStore): Record<string, Record<string, string>> {
  return Object.fromEntries(store.namespaces().map((ns) => [ns, store.getKVListByNamespace(ns)!]));
}

describe('KvStore', () => {
  it('starts empty when the file does not exist yet', async () => {
    const store = await loaded(join(dir, 'missing', 'kvConfig.json'));
    expect(store.namespaces()).toEqual([]);
    expect(store.get(ORDER, 'TopicTest')).toBeUndefined();
    expect(store.getKVListByNamespace(ORDER)).toBeUndefined();
    expect(store.degraded).toBeUndefined();
  });

  it('writes the Java KVConfigSerializeWrapper format and survives a restart', async () => {
    const path = join(dir, 'namesrv', 'kvConfig.json');
    const store = await loaded(path);
    expect(await store.put(ORDER, 'TopicTest', 'broker-a:4;broker-b:4')).toEqual({ ok: true });
    expect(await store.put('ns2', 'k', 'v')).toEqual({ ok: true });
    expect(await onDisk(path)).toEqual({
      configTable: { [ORDER]: { TopicTest: 'broker-a:4;broker-b:4' }, ns2: { k: 'v' } },
    });

    const restarted = await loaded(path);
    expect(restarted.get(ORDER, 'TopicTest')).toBe('broker-a:4;broker-b:4');
    expect(restarted.getKVListByNamespace('ns2')).toEqual({ k: 'v' });
    expect(restarted.namespaces().sort()).toEqual([ORDER, 'ns2']);
  });

  it('loads a file written by the Java name server (fastjson, any order, whitespace)', async () => {
    const path = join(dir, 'kvConfig.json');
    await writeFile(path, '{\n\t"configTable":{\n\t\t"ORDER_TOPIC_CONFIG":{\n\t\t\t"b":"2","a":"1"\n\t\t}\n\t}\n}');
    const store = await loaded(path);
    expect(store.getKVListByNamespace(ORDER)).toEqual({ a: '1', b: '2' });
    await writeFile(path, '{}');
    expect((await loaded(path)).namespaces()).toEqual([]);
  });

  it('deletes durably and, like Java, keeps the emptied namespace', async () => {
    const path = join(dir, 'kvConfig.json');
    const store = await loaded(path);
    await store.put(ORDER, 'a', '1');
    expect(await store.delete(ORDER, 'a')).toEqual({ ok: true });
    expect(store.get(ORDER, 'a')).toBeUndefined();
    expect(store.getKVListByNamespace(ORDER)).toEqual({});
    expect(await onDisk(path)).toEqual({ configTable: { [ORDER]: {} } });
    expect(await store.delete('never', 'there')).toEqual({ ok: true });
    expect(store.getKVListByNamespace('never')).toBeUndefined();
  });

  it('keeps keys such as __proto__ as plain data', async () => {
    const path = join(dir, 'kvConfig.json');
    const store = await loaded(path);
    await store.put('__proto__', '__proto__', 'x');
    const restarted = await loaded(path);
    expect(restarted.get('__proto__', '__proto__')).toBe('x');
    expect(Object.keys(restarted.getKVListByNamespace('__proto__')!)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('serializes concurrent puts so none is lost, in memory or on disk', async () => {
    const path = join(dir, 'kvConfig.json');
    const store = await loaded(path);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.put(`ns${i % 3}`, `key${i}`, `value${i}`)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const restarted = await loaded(path);
    for (let i = 0; i < 50; i++) expect(restarted.get(`ns${i % 3}`, `key${i}`)).toBe(`value${i}`);
    expect(memoryOf(restarted)).toEqual(memoryOf(store));
  });

  it('acknowledges a put only once it is on disk, and shows it to readers only then', async () => {
    const path = join(dir, 'kvConfig.json');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = await loaded(path, {
      writeFile: async (p, data) => {
        await gate;
        await writeFileAtomic(p, data);
      },
    });
    let acknowledged = false;
    const pending = store.put('ns', 'k', 'v').then((r) => {
      acknowledged = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acknowledged).toBe(false);
    expect(store.get('ns', 'k')).toBeUndefined();
    release();
    expect(await pending).toEqual({ ok: true });
    expect(store.get('ns', 'k')).toBe('v');
    await store.flush();
  });

  it('refuses a corrupt file, naming it, instead of starting empty', async () => {
    const path = join(dir, 'kvConfig.json');
    for (const text of [
      '{"configTable":{"ns":{"k":"v"}',
      '',
      '[]',
      '{"configTable":{"ns":{"k":1}}}',
      '{"configTable":{"ns":"x"}}',
    ]) {
      await writeFile(path, text);
      const result = await new KvStore({ path }).load();
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.error).toContain(path);
    }
  });

  it('points at the RocketMQ .bak file when one exists', async () => {
    const path = join(dir, 'kvConfig.json');
    await writeFile(path, '{"configTable":');
    await writeFile(`${path}.bak`, '{"configTable":{}}');
    const result = await new KvStore({ path }).load();
    expect(!result.ok && result.error).toContain(`${path}.bak`);
  });

  it('reports an unreadable file (a directory in its place) naming it', async () => {
    const path = join(dir, 'kvConfig.json');
    await mkdir(path);
    const result = await new KvStore({ path }).load();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(path);
  });

  it('on a write failure returns the error, rolls back and keeps memory == disk, then recovers', async () => {
    const path = join(dir, 'kvConfig.json');
    const store = await loaded(path);
    await store.put('ns', 'kept', '1');
    const before = await onDisk(path);

    // Running as root defeats permission bits, so make the rename itself fail:
    // a non-empty directory cannot be replaced by a file.
    await rm(path);
    await mkdir(path);
    await writeFile(join(path, 'blocker'), '');
    const failed = await store.put('ns', 'lost', '2');
    expect(failed.ok).toBe(false);
    if (!failed.ok) expect(failed.error).toContain(path);
    expect(store.get('ns', 'lost')).toBeUndefined();
    expect(store.getKVListByNamespace('ns')).toEqual({ kept: '1' });
    expect(store.degraded).toContain(path);
    const failedDelete = await store.delete('ns', 'kept');
    expect(failedDelete.ok).toBe(false);
    expect(store.get('ns', 'kept')).toBe('1');
    // No temporary files left next to the target.
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    await rm(path, { recursive: true });
    expect(await store.put('ns', 'again', '3')).toEqual({ ok: true });
    expect(store.degraded).toBeUndefined();
    expect(await onDisk(path)).toEqual({
      configTable: { ns: { ...(before as { configTable: { ns: object } }).configTable.ns, again: '3' } },
    });
    expect(memoryOf(store)).toEqual(((await onDisk(path)) as { configTable: object }).configTable);
  });

  it('with an injected failing writer, memory stays equal to the last good file', async () => {
    const path = join(dir, 'kvConfig.json');
    let failNext = false;
    const store = await loaded(path, {
      writeFile: async (p, data) => {
        if (failNext) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        await writeFileAtomic(p, data);
      },
    });
    await store.put('a', 'x', '1');
    failNext = true;
    const results = await Promise.all([store.put('a', 'y', '2'), store.put('b', 'z', '3'), store.delete('a', 'x')]);
    expect(results.map((r) => r.ok)).toEqual([false, false, false]);
    expect(results[0]).toEqual({ ok: false, error: expect.stringContaining('ENOSPC') });
    expect(memoryOf(store)).toEqual({ a: { x: '1' } });
    expect(await onDisk(path)).toEqual({ configTable: memoryOf(store) });
    expect(store.degraded).toContain('ENOSPC');
    failNext = false;
    await store.put('b', 'z', '3');
    expect(store.degraded).toBeUndefined();
  });

  it.skipIf(isRoot)('returns EACCES from a read-only directory and keeps memory == disk', async () => {
    const sub = join(dir, 'ro');
    await mkdir(sub);
    const path = join(sub, 'kvConfig.json');
    const store = await loaded(path);
    await store.put('ns', 'k', '1');
    await chmod(sub, 0o500);
    try {
      const result = await store.put('ns', 'k', '2');
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/EACCES/);
      expect(store.get('ns', 'k')).toBe('1');
      expect(await onDisk(path)).toEqual({ configTable: { ns: { k: '1' } } });
    } finally {
      await chmod(sub, 0o700);
    }
  });

  it('does not rewrite the file for a put that changes nothing', async () => {
    let writes = 0;
    const store = await loaded(join(dir, 'kv.json'), {
      writeFile: async (p, data) => {
        writes++;
        await writeFileAtomic(p, data);
      },
    });
    await store.put('ns', 'k', 'v');
    await store.put('ns', 'k', 'v');
    expect(writes).toBe(1);
  });

  it('serializes with sorted keys', () => {
    const table = new Map([
      [
        'b',
        new Map([
          ['y', '2'],
          ['x', '1'],
        ]),
      ],
      ['a', new Map<string, string>()],
    ]);
    expect(serializeTable(table)).toBe('{"configTable":{"a":{},"b":{"x":"1","y":"2"}}}');
  });
});
