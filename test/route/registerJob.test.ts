import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NOT_PREPARED, preparedFromJob, runRegisterJob, type RegisterJob } from '../../src/route/registerJob.js';
import { DV1, DV2, makeBody, tc } from './routeTableFixtures.js';

function job(body: Buffer, overrides: Partial<RegisterJob> = {}): RegisterJob {
  return {
    body: new Uint8Array(body),
    compressed: false,
    bodyCrc32: crc32(body) & 0x7fffffff,
    clientVersion: 413,
    now: 1000,
    maxInflatedBytes: 1024 * 1024,
    skipDecodeIfVersion: undefined,
    ...overrides,
  };
}

describe('the register job (a worker thread decodes a large body)', () => {
  it('checks the checksum first, and decodes nothing when it does not match', () => {
    const body = makeBody({ topics: [tc('A')], dataVersion: DV1 });
    expect(runRegisterJob(job(body, { bodyCrc32: 12345 }))).toEqual({
      crcOk: false,
      peek: undefined,
      decoded: undefined,
    });
  });

  it('hands back the topics in columns: names, and read, write, perm, sysFlag in one Int32Array', () => {
    for (const compressed of [false, true]) {
      const body = makeBody({
        topics: [tc('A'), tc('B', { readQueueNums: 16, writeQueueNums: 8, perm: 4, topicSysFlag: 1 })],
        dataVersion: DV1,
        filterServerList: ['10.0.0.9:30000'],
        compressed,
      });
      const result = runRegisterJob(job(body, { compressed }));
      expect(result.crcOk).toBe(true);
      expect(result.peek?.dataVersion).toEqual(DV1);
      if (!result.decoded?.ok) throw new Error('not decoded');
      const topics = result.decoded.value.topics;
      expect(topics.names).toEqual(['A', 'B']);
      // The compressed text form has no sysFlag (as in Java).
      expect([...topics.quads]).toEqual([4, 4, 6, 0, 16, 8, 4, compressed ? 0 : 1]);
      expect(result.decoded.value.filterServerList).toEqual(['10.0.0.9:30000']);

      const prepared = preparedFromJob(result);
      expect(prepared.decoded?.ok && prepared.decoded.value.topics.ownedStrings).toBe(true);
      expect(prepared.decoded?.ok && [...prepared.decoded.value.topics.keySet()]).toEqual(['A', 'B']);
    }
  });

  it('skips the decode of a body whose DataVersion is the one it was told to expect', () => {
    const body = makeBody({ topics: [tc('A')], dataVersion: DV2 });
    const skipped = runRegisterJob(job(body, { skipDecodeIfVersion: DV2 }));
    expect(skipped).toMatchObject({ crcOk: true, decoded: undefined });
    expect(skipped.peek?.dataVersion).toEqual(DV2);
    expect(runRegisterJob(job(body, { skipDecodeIfVersion: DV1 })).decoded?.ok).toBe(true);
    expect(NOT_PREPARED.decoded).toBeUndefined();
  });

  it('reports an undecodable body as a decode error, not a throw', () => {
    const body = Buffer.from('{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":');
    const result = runRegisterJob(job(body));
    expect(result.crcOk).toBe(true);
    expect(result.decoded).toMatchObject({ ok: false });
  });
});
