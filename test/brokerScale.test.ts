import { afterEach, describe, expect, it } from 'vitest';
import { RequestCode, ResponseCode } from '../src/remoting/requestCode.js';
import { startTestServer, type TestServer } from './support/harness.js';
import { registerBrokerRequest } from './support/broker.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const BROKERS = 10_000;

async function registerMany(t: TestServer, count: number, offset: number, heartbeatTimeoutMillis: number) {
  const client = await t.client();
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const answers = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const n = offset + i;
      const { extFields, body } = registerBrokerRequest({
        clusterName: `c${n % 10}`,
        brokerName: `b${n}`,
        brokerAddr: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:10911`,
        topics: { [`T${n % 50}`]: {}, [`b${n}`]: {} },
        heartbeatTimeoutMillis,
      });
      answers.push(client.invoke(RequestCode.REGISTER_BROKER, extFields, body, 30_000));
    }
    for (const answer of await Promise.all(answers)) expect(answer.code).toBe(ResponseCode.SUCCESS);
  }
  return client;
}

describe('10,000 brokers', () => {
  it('registered and removed (expiry and connection close) leave no actor, timer or route behind', async () => {
    t = await startTestServer();
    await registerMany(t, BROKERS / 2, 0, 60_000);
    const closing = await registerMany(t, BROKERS / 2, BROKERS / 2, 3_600_000);
    const context = () => t!.server.actor.getSnapshot().context;
    expect(t.server.brokers.actors.size).toBe(BROKERS);
    expect(t.server.routes.liveBrokerView()).toHaveLength(BROKERS);
    const timers = (t.clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts;
    expect(timers.size).toBe(BROKERS);

    // Half expire on the clock, half go with their connection.
    t.clock.increment(60_000);
    expect(t.server.brokers.actors.size).toBe(BROKERS / 2);
    await closing.close();
    for (let i = 0; i < 2_000 && t.server.brokers.actors.size > 0; i++)
      await new Promise((resolve) => setImmediate(resolve));

    expect(t.server.brokers.actors.size).toBe(0);
    expect(context().liveBrokers.size).toBe(0);
    expect(timers.size).toBe(0);
    expect(t.server.routes.liveBrokerView()).toEqual([]);
    expect(t.server.routes.stats()).toMatchObject({ topics: 0, brokerNames: 0, clusters: 0 });
  }, 60_000);
});
