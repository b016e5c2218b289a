import { describe, expect, it } from 'vitest';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { peekRegisterBody } from '../../src/protocol/registerBodyPeek.js';
import { routeFixture as fixture } from '../support/routeFixtures.js';
import { body, GOLDEN, mustDecode, topic } from './registerBodyFixtures.js';

describe('golden 4.9.8 register bodies', () => {
  it.each(GOLDEN)('peek of %s agrees with the full decode', (name) => {
    const b = fixture(`${name}.body.bin`);
    const full = mustDecode(b, false);
    expect(peekRegisterBody(b)).toEqual({
      dataVersion: full.topicConfigSerializeWrapper.dataVersion,
      filterServerList: full.filterServerList,
    });
  });
});

describe('both generations, both forms', () => {
  const topics = [
    topic('TopicA'),
    topic('TopicB', { perm: 4, readQueueNums: 16 }),
    topic('%RETRY%group', { topicFilterType: 'MULTI_TAG' }),
  ];

  it('peeks compressed bodies too', () => {
    const input = { ...body(topics), filterServerList: ['127.0.0.1:9999'] };
    const zipped = encodeRegisterBrokerBody(input, { compressed: true, generation: '5.x' });
    expect(peekRegisterBody(zipped, { compressed: true })).toEqual({
      dataVersion: { counter: 3, stateVersion: 0, timestamp: 1700000000123 },
      filterServerList: ['127.0.0.1:9999'],
    });
  });

  it('peek gives up on shapes it does not know, rather than guessing', () => {
    expect(
      peekRegisterBody(Buffer.from('{"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"timestamp":2}}}')),
    ).toBeUndefined();
    expect(
      peekRegisterBody(
        Buffer.from(
          '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":"1","timestamp":2}}}',
        ),
      ),
    ).toBeUndefined();
    expect(
      peekRegisterBody(Buffer.from('{"filterServerList":[],"topicConfigSerializeWrapper":{"topicConfigTable":{}}}')),
    ).toBeUndefined();
    expect(peekRegisterBody(Buffer.from('not json'))).toBeUndefined();
    expect(peekRegisterBody(Buffer.from('garbage'), { compressed: true })).toBeUndefined();
    // Escaped strings and whitespace are fine.
    expect(
      peekRegisterBody(
        Buffer.from(
          '{ "filterServerList" : ["a\\"b"] , "topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":2}}, "x":1}',
        ),
      ),
    ).toEqual({ dataVersion: { counter: 1, stateVersion: 0, timestamp: 2 }, filterServerList: ['a"b'] });
  });

  it('peeks past a long filter server list', () => {
    const list = Array.from({ length: 200 }, (_, i) => `10.0.${i}.1:30000`);
    const b = encodeRegisterBrokerBody({ ...body(topics), filterServerList: list }, { compressed: false });
    expect(b.length).toBeGreaterThan(1024);
    expect(peekRegisterBody(b)?.filterServerList).toEqual(list);
  });
});
