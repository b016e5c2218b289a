import { describe, expect, it } from 'vitest';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { until } from '../support/wait.js';
import { GatewayClient, refusedUpgrade, gatewayServerPerTest, type Message } from './support.js';

const { start, forget } = gatewayServerPerTest();

const TOPICS = Array.from({ length: 20 }, (_, i) => `Topic${i}`);

function brokerNumber(n: number) {
  const brokerName = `broker-${n}`;
  const topics: Record<string, object> = { [brokerName]: {} };
  for (const topic of TOPICS) topics[topic] = {};
  return { brokerName, brokerAddr: `127.0.0.1:${20_000 + n}`, topics };
}

describe('gateway connections', () => {
  it('drops a client that stops reading with 1013 while another keeps receiving', async () => {
    const t = await start({ gatewayMaxBufferedBytes: 256 * 1024 });
    const { client: slow } = await t.open({ query: { topics: TOPICS.join(',') } });
    const { client: steady } = await t.open({ query: { topics: TOPICS.join(',') } });
    (slow.ws as any)._socket.pause();

    // Every broker joins all twenty topics, so each registration pushes twenty ever larger routes.
    const tcp = await t.client();
    let n = 0;
    while (t.server.gateway.stats().droppedSlowClients === 0) {
      if (n === 500) throw new Error('the paused client was never dropped');
      await registerBroker(tcp, brokerNumber(n++));
    }
    expect(t.server.gateway.stats()).toMatchObject({ clients: 2, droppedSlowClients: 1 });

    await registerBroker(tcp, brokerNumber(n++));
    const last = await steady.waitFor((m) => m.type === 'transition' && m.context.brokerName === `broker-${n - 1}`);
    // The route pushes that registration causes follow its transition.
    await steady.barrier();
    const received = steady.messages.filter((m) => m.seq !== undefined).map((m) => m.seq);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => received[0] + i));
    expect(received).toContain(last.seq);
    expect(received.at(-1)).toBe(t.server.gateway.stats().streamSeq);
    expect((await getRoute(tcp, 'Topic0')).code).toBe(ResponseCode.SUCCESS);

    (slow.ws as any)._socket.resume();
    expect(await slow.closed).toEqual({ code: 1013, reason: 'too slow: outgoing buffer over gatewayMaxBufferedBytes' });
    await steady.barrier();
  });

  it('pings on the server clock and cuts off a client that does not answer', async () => {
    const t = await start({ gatewayPingIntervalSeconds: 30 });
    const { client: live } = await t.open();
    const { client: dead } = await t.open({ autoPong: false });
    const pinged = (client: GatewayClient) => new Promise((resolve) => client.ws.once('ping', resolve));

    const pings = [pinged(live), pinged(dead)];
    t.clock.increment(30_000);
    await Promise.all(pings);
    // The live client's pong went out before this request: once answered, the server has heard it.
    await live.barrier();

    t.clock.increment(30_000);
    expect((await dead.closed).code).toBe(1006);
    await live.barrier();
    expect(t.server.gateway.stats()).toMatchObject({ clients: 1, deadClients: 1 });
  });

  it('closes every client with 1001 on shutdown and releases their brokers', async () => {
    const t = await start({ gatewayToken: 't' });
    const { client: watcher } = await t.open();
    const { client: broker } = await t.open({ token: 't' });
    const registered = await broker.request('registerBroker', {
      clusterName: 'C',
      brokerName: 'ws-broker',
      brokerAddr: '127.0.0.1:40911',
      dataVersion: { counter: 1, timestamp: 1 },
      topics: { T: {}, 'ws-broker': {} },
    });
    expect(registered.type).toBe('response');

    await t.server.close('shutdown test');
    expect(await watcher.closed).toEqual({ code: 1001, reason: 'name server shutting down' });
    expect((await broker.closed).code).toBe(1001);
    const stopping = watcher.pending().find((m: Message) => m.type === 'transition' && m.to === 'stopping.serving');
    expect(stopping).toMatchObject({ machine: 'nameServer', from: 'ready', event: 'STOP' });
    expect(t.server.gateway.stats().clients).toBe(0);
    expect(t.server.routes.liveBrokerView()).toEqual([]);
    forget();
  });

  it('refuses clients over gatewayMaxClients with 503', async () => {
    const t = await start({ gatewayMaxClients: 1 });
    const { client } = await t.open();
    const refused = await refusedUpgrade(t.port);
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('gatewayMaxClients=1');
    await client.close();
    await until(() => t.server.gateway.stats().clients === 0, 'the server has seen the close');
    await t.open();
  });
});
