import { describe, expect, it } from 'vitest';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { registerBroker } from '../support/broker.js';
import { gatewayServerPerTest, type GatewayClient, type Message } from './support.js';

/**
 * The stream's causal order (docs/gateway.md, "Order"): a client that
 * rebuilds the server's state from the stream alone never sees an effect
 * before its cause. Checked here as invariants over the whole stream:
 * - every name server transition reports as many live brokers as the
 *   stream's broker transitions have made live so far;
 * - every route push of the shared topic lists exactly the brokers the
 *   stream has shown live so far (a registration's `registered` comes
 *   before the push it causes, a removal's final state before its push).
 */

const SHARED = 'Shared';
const STREAMS = { streams: 'lifecycle,brokers,routes', topics: SHARED };
const { start } = gatewayServerPerTest();

function broker(i: number) {
  return { brokerName: `broker-${i}`, brokerAddr: `127.0.0.1:${21000 + i}`, topics: { [SHARED]: {}, [`Own${i}`]: {} } };
}

/** Replays the stream as a client would and checks each message against what came before it. */
function checkCausalOrder(messages: Message[]): { live: Set<string>; violations: string[] } {
  const live = new Set<string>();
  const violations: string[] = [];
  for (const m of messages) {
    if (m.type === 'transition' && m.machine === 'broker') {
      if (m.to === 'registered') live.add(m.context.brokerAddr);
      else live.delete(m.context.brokerAddr);
    } else if (m.type === 'transition' && m.machine === 'nameServer') {
      if (m.context.liveBrokers !== live.size) {
        violations.push(
          `#${m.seq} nameServer ${m.from} -> ${m.to} reports ${m.context.liveBrokers} live brokers, the stream has shown ${live.size}`,
        );
      }
    } else if (m.type === 'route' && m.topic === SHARED) {
      const inRoute = (m.route?.brokerDatas ?? []).flatMap((d: Message) => Object.values(d.brokerAddrs)).sort();
      const shown = [...live].sort();
      if (JSON.stringify(inRoute) !== JSON.stringify(shown)) {
        violations.push(
          `#${m.seq} route (${m.cause}) lists ${inRoute.join(',') || 'nothing'}, the stream has shown ${shown.join(',') || 'nothing'} live`,
        );
      }
    }
  }
  return { live, violations };
}

function streamed(client: GatewayClient): Message[] {
  return client.messages.filter((m) => m.seq !== undefined && (m.type === 'transition' || m.type === 'route'));
}

describe('gateway stream order is causal', () => {
  it('several brokers registering at once: each registered before the ready it completes and before its route push', async () => {
    const t = await start({ needWaitForService: true, waitSecondsForService: 10, waitForBrokers: 3 });
    const { client } = await t.open({ query: STREAMS });
    t.clock.increment(10_000);
    const connections: RemotingClient[] = [];
    for (let i = 0; i < 5; i++) connections.push(await t.client());
    // Sent together over separate connections, as a cluster restarting would.
    const answers = await Promise.all(connections.map((c, i) => registerBroker(c, broker(i))));
    expect(answers.map((a) => a.code)).toEqual(answers.map(() => ResponseCode.SUCCESS));
    await client.barrier();

    const messages = streamed(client);
    const { live, violations } = checkCausalOrder(messages);
    expect(violations).toEqual([]);
    expect(live.size).toBe(5);
    const ready = messages.find((m) => m.machine === 'nameServer' && m.to === 'ready')!;
    expect(ready).toMatchObject({
      from: 'waiting.targetPending',
      event: 'BROKER.LIVE',
      context: { liveBrokers: 3 },
      tags: ['live', 'ready', 'servingRoutes'],
    });
    const registeredBefore = messages.filter(
      (m) => m.seq < ready.seq && m.machine === 'broker' && m.to === 'registered',
    );
    expect(registeredBefore).toHaveLength(3);
    // Routes held while waiting are pushed after the transition that serves them.
    const routes = messages.filter((m) => m.type === 'route');
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((m) => m.seq > ready.seq)).toBe(true);
  });

  it('expiry, unregistration and connection close: each final state before the route push it causes', async () => {
    const t = await start();
    const { client } = await t.open({ query: STREAMS });
    const connections: RemotingClient[] = [];
    for (let i = 0; i < 4; i++) connections.push(await t.client());
    await Promise.all(
      connections.map((c, i) => registerBroker(c, { ...broker(i), heartbeatTimeoutMillis: i < 2 ? 5_000 : 60_000 })),
    );
    // Two expire together on the clock.
    t.clock.increment(5_000);
    // One unregisters.
    const unregistered = await connections[2]!.invoke(RequestCode.UNREGISTER_BROKER, {
      clusterName: 'DefaultCluster',
      brokerName: 'broker-2',
      brokerAddr: broker(2).brokerAddr,
      brokerId: '0',
    });
    expect(unregistered.code).toBe(ResponseCode.SUCCESS);
    // One goes with its connection.
    await connections[3]!.close();
    await client.waitFor((m) => m.machine === 'broker' && m.to === 'disconnected');
    await client.barrier();

    const messages = streamed(client);
    const { live, violations } = checkCausalOrder(messages);
    expect(violations).toEqual([]);
    expect(live.size).toBe(0);
    const ends = messages.filter((m) => m.machine === 'broker' && m.to !== 'registered').map((m) => m.to);
    expect(ends.sort()).toEqual(['disconnected', 'expired', 'expired', 'unregistered']);
    for (const cause of ['expired', 'unregister', 'connectionClosed']) {
      expect(
        messages.some((m) => m.type === 'route' && m.cause === cause),
        `a route push caused by ${cause}`,
      ).toBe(true);
    }
  });

  it('a client that resumes gets the same messages in the same order', async () => {
    const t = await start({ needWaitForService: true, waitSecondsForService: 10, waitForBrokers: 2 });
    const watcher = await t.open({ query: STREAMS });
    const leaver = await t.open({ query: STREAMS });
    const connections: RemotingClient[] = [];
    for (let i = 0; i < 3; i++) connections.push(await t.client());
    await registerBroker(connections[0]!, { ...broker(0), heartbeatTimeoutMillis: 20_000 });
    await leaver.client.barrier();
    const lastSeen = Math.max(...streamed(leaver.client).map((m) => m.seq));
    await leaver.client.close();

    // Missed while away: the wait ending, two more brokers at once, an expiry.
    t.clock.increment(10_000);
    await Promise.all([registerBroker(connections[1]!, broker(1)), registerBroker(connections[2]!, broker(2))]);
    t.clock.increment(10_000);
    await watcher.client.barrier();

    const back = await t.open({ query: { ...STREAMS, lastSeq: lastSeen, instanceId: leaver.hello.server.instanceId } });
    await back.client.waitFor((m) => m.type === 'response' && m.op === 'resume');
    const rebuilt = [...streamed(leaver.client), ...streamed(back.client)];
    const original = streamed(watcher.client);
    expect(rebuilt.map((m) => m.seq)).toEqual(original.map((m) => m.seq));
    expect(rebuilt).toEqual(original);
    const { live, violations } = checkCausalOrder(rebuilt);
    expect(violations).toEqual([]);
    expect(live.size).toBe(2);
    expect(rebuilt.some((m) => m.machine === 'nameServer' && m.to === 'ready')).toBe(true);
  });
});
