import { describe, expect, it } from 'vitest';
import { DV1, input, makeBody, newTable, tc } from './routeTableFixtures.js';

describe('generations fence stale removals', () => {
  it('keeps a generation per registration and bumps it on a new connection or a fresh start', () => {
    const table = newTable();
    const body = makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 });
    const first = table.registerBroker(input({ body, connectionId: 7 }));
    const again = table.registerBroker(input({ body, connectionId: 7 }));
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    expect(again.generation).toBe(first.generation);

    const reconnected = table.registerBroker(input({ body, connectionId: 8 }));
    if (!reconnected.ok) throw new Error('refused');
    expect(reconnected.generation).toBeGreaterThan(first.generation);

    // The old connection's close and the old actor's expiry arrive late: no-ops.
    const before = table.dump();
    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: first.generation },
        'connectionClosed',
      ),
    ).toBe(false);
    expect(
      table.removeBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: first.generation }, 'expired'),
    ).toBe(false);
    expect(table.dump()).toEqual(before);
    expect(table.pickupTopicRouteData('A')).toBeDefined();

    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: reconnected.generation },
        'expired',
      ),
    ).toBe(true);
    expect(table.pickupTopicRouteData('A')).toBeUndefined();
    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: reconnected.generation },
        'expired',
      ),
    ).toBe(false);

    const afresh = table.registerBroker(input({ body, connectionId: 8 }));
    if (!afresh.ok) throw new Error('refused');
    expect(afresh.generation).toBeGreaterThan(reconnected.generation);
    expect(afresh.firstRegistration).toBe(true);
  });

  it('UNREGISTER_BROKER ignores generations', () => {
    const table = newTable();
    table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }));
    expect(
      table.unregisterBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', brokerName: 'broker-a', brokerId: 0 }),
    ).toBe(true);
    expect(table.dump()).toMatchObject({ topics: {}, brokers: {}, live: {}, clusters: {} });
    expect(
      table.unregisterBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', brokerName: 'broker-a', brokerId: 0 }),
    ).toBe(false);
  });
});
