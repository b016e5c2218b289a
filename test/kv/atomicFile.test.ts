import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/util/atomicFile.js';

const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xnamesrv-atomic-'));
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates missing directories and writes the content', async () => {
    const path = join(dir, 'a', 'b', 'file.json');
    await writeFileAtomic(path, '{"x":1}');
    expect(await readFile(path, 'utf8')).toBe('{"x":1}');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['file.json']);
  });

  it('replaces an existing file and keeps its mode unless told otherwise', async () => {
    const path = join(dir, 'file');
    await writeFile(path, 'old');
    await chmod(path, 0o640);
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    await writeFileAtomic(path, 'newer', { mode: 0o600 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('rejects with the OS error code and leaves the target and no temp file', async () => {
    const path = join(dir, 'target');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    await expect(writeFileAtomic(path, 'data')).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/),
    });
    expect((await stat(path)).isDirectory()).toBe(true);
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('rejects when the parent is a file', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    await expect(writeFileAtomic(join(dir, 'plain', 'child'), 'data')).rejects.toMatchObject({
      code: expect.stringMatching(/ENOTDIR|EEXIST/),
    });
  });

  it.skipIf(isRoot)('rejects with EACCES in a read-only directory and keeps the old content', async () => {
    const path = join(dir, 'file');
    await writeFile(path, 'old');
    await chmod(dir, 0o500);
    await expect(writeFileAtomic(path, 'new')).rejects.toMatchObject({ code: 'EACCES' });
    await chmod(dir, 0o700);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('never lets a reader see a torn file while writers race', async () => {
    const path = join(dir, 'race.json');
    const payloads = Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({ writer: i, fill: String(i).repeat(256 * 1024) }),
    );
    await writeFileAtomic(path, payloads[0]!);
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const text = await readFile(path, 'utf8');
        expect(payloads).toContain(text);
        reads++;
      }
    })();
    for (let round = 0; round < 10; round++) {
      await Promise.all(payloads.map((p) => writeFileAtomic(path, p)));
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await readdir(dir)).filter((name) => name !== 'race.json')).toEqual([]);
  });
});
