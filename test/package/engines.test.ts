import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  apisUsed,
  encodeVersion,
  NODE_APIS,
  parseRange,
  readSources,
  satisfies,
  versionOutside,
  violations,
  type SourceFile,
} from './nodeVersions.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
};

const file = (code: string): SourceFile => ({ path: 'sample.ts', code });

describe('engines.node states the real minimum Node version', () => {
  it('admits no Node version that lacks an API the shipped code (src/, machines/) uses', () => {
    const uses = apisUsed(readSources(root, ['src', 'machines']));
    // What was found, for whoever reads a failure: each API, its versions, its files.
    expect(violations(uses, manifest.engines.node)).toEqual([]);
  });

  it('would refuse `>=20` while zlib.crc32 is used: Node 20.0 to 20.14 and 21 lack it', () => {
    const uses = apisUsed([file(`import { constants, crc32 } from 'node:zlib';\nconst c = crc32(body);`)]);
    expect(uses.map((u) => u.api)).toEqual(['zlib.crc32']);
    expect(violations(uses, '>=20')).toMatchObject([{ api: 'zlib.crc32', missingIn: '20.0.0' }]);
    expect(violations(uses, '>=20.15')).toMatchObject([{ api: 'zlib.crc32', missingIn: '21.0.0' }]);
    expect(violations(uses, '^20.15.0 || >=22.2.0')).toEqual([]);
  });

  it('is no wider than what every runtime dependency declares (package-lock.json, dev packages excluded)', () => {
    const ours = parseRange(manifest.engines.node);
    const narrower: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === '' || entry.dev || node === undefined) continue;
      const outside = versionOutside(ours, parseRange(node));
      if (outside !== undefined) narrower.push(`${path} wants node ${node}`);
    }
    expect(narrower).toEqual([]);
  });

  it('is admitted by the Node running these tests (else the tests prove nothing about it)', () => {
    const [major, minor, patch] = process.versions.node.split('.').map(Number) as [number, number, number];
    expect(satisfies(encodeVersion(major, minor, patch), parseRange(manifest.engines.node))).toBe(true);
  });
});

describe('the API scanner', () => {
  it('finds named, aliased, namespace and default imports of a module member, not type imports or comments', () => {
    const crc = NODE_APIS.find((a) => a.api === 'zlib.crc32')!;
    expect(crc.uses(file(`import { crc32 as crc } from 'zlib';`))).toBe(true);
    expect(crc.uses(file(`import * as zlib from 'node:zlib';\nzlib.crc32(b);`))).toBe(true);
    expect(crc.uses(file(`import z from 'node:zlib';\nz.crc32(b);`))).toBe(true);
    expect(crc.uses(file(`import { inflateSync } from 'node:zlib';\n// crc32(body)`))).toBe(false);
    expect(crc.uses(file(`import type { crc32 } from 'node:zlib';`))).toBe(false);
    expect(crc.uses(file(`import { crc32 } from './myCrc.js';`))).toBe(false);
  });

  it('reads the range forms engines fields use', () => {
    const v = (text: string) => {
      const [a, b, c] = text.split('.').map(Number);
      return encodeVersion(a!, b, c);
    };
    const cases: Array<[string, string, boolean]> = [
      ['>=20', '20.0.0', true],
      ['>=20', '19.9.9', false],
      ['^16 || ^18 || >=20', '19.0.0', false],
      ['^16 || ^18 || >=20', '18.20.1', true],
      ['>= 10.x', '10.0.0', true],
      ['>=12.13', '12.12.9', false],
      ['^20.15.0 || >=22.2.0', '21.7.0', false],
      ['^20.15.0 || >=22.2.0', '20.15.0', true],
      ['^20.15.0 || >=22.2.0', '22.1.9', false],
      ['~1.2.3', '1.3.0', false],
      ['>1.2', '1.2.9', false],
      ['>1.2', '1.3.0', true],
      ['<=20.1', '20.1.5', true],
      ['*', '0.1.0', true],
    ];
    for (const [range, version, expected] of cases)
      expect([range, version, satisfies(v(version), parseRange(range))]).toEqual([range, version, expected]);
  });
});
