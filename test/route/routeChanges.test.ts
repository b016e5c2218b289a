import { describe, expect, it } from 'vitest';
import { EncodedRouteCache } from '../../src/route/encodedRouteCache.js';
import { Changes, minBrokerIdChange } from '../../src/route/routeChanges.js';
import { RouteData } from '../../src/route/routeData.js';
import { addBroker } from './routeTableFixtures.js';

describe('the changes of one write', () => {
  it('drop a touched topic from every encoded route cache, each time it is touched', () => {
    const fastjson = new EncodedRouteCache(1024);
    const standard = new EncodedRouteCache(1024);
    for (const cache of [fastjson, standard]) {
      cache.put('A', '{"a":1}', true);
      cache.put('B', '{"b":1}', true);
    }
    const changes = new Changes([fastjson, standard]);
    changes.touch('A');
    expect([fastjson.get('A'), standard.get('A')]).toEqual([undefined, undefined]);
    expect(fastjson.get('B')).toBeDefined();
    // A reader cached it again between two chunks of one registration.
    fastjson.put('A', '{"a":2}', true);
    changes.touch('A');
    expect(fastjson.get('A')).toBeUndefined();
    expect([...changes.topics]).toEqual(['A']);
  });

  it('tell the brokers there before a smaller id joined, and every remaining one when a broker left', () => {
    const data = new RouteData();
    const entry = addBroker(data, 'c1', 'broker-a', { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' });
    expect(minBrokerIdChange(entry, undefined, '10.0.0.1:10912')).toEqual({
      brokerName: 'broker-a',
      brokerAddrs: { '0': '10.0.0.1:10911', '1': '10.0.0.2:10911', '2': '10.0.0.3:10911' },
      minBrokerId: 0,
      minBrokerAddr: '10.0.0.1:10911',
      haBrokerAddr: '10.0.0.1:10912',
      notifyAddrs: ['10.0.0.2:10911', '10.0.0.3:10911'],
    });
    entry.addrs.delete(0);
    expect(minBrokerIdChange(entry, '10.0.0.1:10911', undefined)).toEqual({
      brokerName: 'broker-a',
      brokerAddrs: { '1': '10.0.0.2:10911', '2': '10.0.0.3:10911' },
      minBrokerId: 1,
      minBrokerAddr: '10.0.0.2:10911',
      offlineBrokerAddr: '10.0.0.1:10911',
      notifyAddrs: ['10.0.0.2:10911', '10.0.0.3:10911'],
    });
  });
});
