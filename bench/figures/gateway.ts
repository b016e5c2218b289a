/**
 * Figure 7: the WebSocket gateway's fan-out. 100 brokers send 1,000
 * BROKER_HEARTBEAT/s between them (each one a broker-actor transition), and
 * 500 subscribers on the default streams get every transition: 500,000
 * deliveries a second. Delivery latency is from the transition's `at` (the
 * server's clock) to its arrival at a probe subscriber, in whole
 * milliseconds. Reference in the same run: the same transitions with no
 * subscriber connected (the server's CPU for the transitions alone).
 */
import { Histogram, summarize, type HistogramSnapshot } from '../lib/hist.js';
import { fmt, type BenchContext } from '../lib/context.js';
import { Child, sleep } from '../lib/rpc.js';
import type { Topology } from '../lib/topology.js';

const SUBSCRIBERS = 500;
const PROBES = 20;
const RATE = 1000;
/** A lighter load in the same run, to show where the fan-out copes. */
const LIGHT_RATE = 100;

export async function figure7(ctx: BenchContext): Promise<void> {
  const { child: ns, port, httpPort } = await ctx.startServer('xnamesrv-gateway', { gatewayPingIntervalSeconds: '0' });
  const brokers = ctx.own(Child.start('brokers-gateway', 'brokerLoad'));
  const topology: Topology = {
    clusters: 10,
    brokersPerCluster: 10,
    topicsPerBroker: 10,
    replication: 1,
    topicPrefix: 'GwTopic_',
    brokerOffset: 6000,
  };
  await brokers.call('prepare', { topology });
  const reg = await brokers.call('registerAll', { port, topology, connections: 10, window: 1 });
  const seconds = ctx.quick ? 3 : 6;

  // Reference: the transitions alone.
  await ns.call('phase');
  await brokers.call('startHeartbeats', { rate: RATE });
  await sleep(seconds * 1000);
  const hbAlone = await brokers.call('stopHeartbeats');
  const alone = await ns.call('phase');

  const subs = ctx.own(Child.start('ws-subscribers', 'wsSubscribers'));
  const conn = await subs.call('connect', { port: httpPort, count: SUBSCRIBERS, probes: PROBES });
  await sleep(500);
  const runs: Array<{ rate: number; hb: any; fan: any; got: any }> = [];
  for (const rate of [RATE, LIGHT_RATE]) {
    await subs.call('start');
    await ns.call('phase');
    await brokers.call('startHeartbeats', { rate });
    await sleep(seconds * 1000);
    const hb = await brokers.call('stopHeartbeats');
    await sleep(1000); // let what was sent arrive
    const fan = await ns.call('phase');
    const got = await subs.call('stop');
    runs.push({ rate, hb, fan, got });
  }
  await subs.stop();
  await brokers.stop();
  await ns.stop();

  ctx.log(
    `  ${reg.registrations} brokers; ${conn.connected} subscribers (${PROBES} parse and time every message); no subscribers: ${fmt(hbAlone.rate)} heartbeats/s take ${fmt(alone.cpu * 100, 0)}% of a core`,
  );
  const out: unknown[] = [];
  for (const { rate, hb, fan, got } of runs) {
    const lat = summarize(Histogram.from(got.latency as HistogramSnapshot));
    // End to end: the k-th heartbeat a broker sent -> the k-th HEARTBEAT transition of that broker at probe 0.
    const e2e = new Histogram();
    let matched = 0;
    for (const [actor, sentTimes] of Object.entries(hb.sentAt as Record<string, number[]>)) {
      const arrived = (got.arrivals as Record<string, number[]>)[actor] ?? [];
      for (let k = 0; k < Math.min(sentTimes.length, arrived.length); k++) {
        e2e.record((arrived[k]! - sentTimes[k]!) * 1000);
        matched++;
      }
    }
    const endToEnd = summarize(e2e);
    const perHeartbeat = got.kinds.brokerHeartbeat / PROBES / Math.max(1, hb.sent);
    const deliveriesPerSecond =
      (((got.kinds.brokerHeartbeat + got.kinds.brokerOther + got.kinds.other) / PROBES) * SUBSCRIBERS) /
      (got.wallMs / 1000);
    ctx.log(
      `  ${fmt(hb.rate, 0)} heartbeats/s to ${SUBSCRIBERS} subscribers: server cpu ${fmt(fan.cpu * 100, 0)}%, event loop max ${fmt(fan.loopMaxMs)} ms, subscriber process cpu ${fmt(got.clientCpu * 100, 0)}%; answers drained ${fmt(hb.drainMs)} ms after the last heartbeat`,
    );
    ctx.log(
      `    heartbeat sent -> its transition at a subscriber: p50 ${fmt(endToEnd.p50Ms)} p99 ${fmt(endToEnd.p99Ms)} max ${fmt(endToEnd.maxMs)} ms (${matched} matched); from the transition's 'at' (whole ms): p50 ${fmt(lat.p50Ms)} p99 ${fmt(lat.p99Ms)} max ${fmt(lat.maxMs)}`,
    );
    ctx.log(
      `    ${fmt(perHeartbeat * 100, 1)}% of heartbeats delivered to each probe; ~${fmt(deliveriesPerSecond)} deliveries/s; ${got.closedDuring} subscribers closed (1013 = too slow)`,
    );
    out.push({
      rate,
      heartbeats: { ...hb, sentAt: undefined },
      server: fan,
      received: { ...got, arrivals: undefined },
      fromAt: lat,
      endToEnd,
      deliveriesPerSecond,
    });
    ctx.rows.push(
      {
        figure: '7 gateway',
        metric: `${SUBSCRIBERS} subscribers, ${fmt(hb.rate, 0)} transitions/s: sent -> delivered p50 / p99, ms`,
        value: `${fmt(endToEnd.p50Ms)} / ${fmt(endToEnd.p99Ms)}`,
        reference: `${fmt(perHeartbeat * 100, 0)}% delivered, ${got.closedDuring} dropped`,
        ratio: '-',
        target: '-',
        met: '-',
      },
      {
        figure: '7 gateway',
        metric: `  same: server CPU, cores`,
        value: fmt(fan.cpu),
        reference: `no subscribers ${fmt(alone.cpu)} at ${fmt(hbAlone.rate, 0)}/s`,
        ratio: fmt(fan.cpu / alone.cpu),
        target: '-',
        met: '-',
      },
    );
  }
  ctx.details.figure7 = {
    subscribers: SUBSCRIBERS,
    probes: PROBES,
    alone: { heartbeats: { ...hbAlone, sentAt: undefined }, server: alone },
    runs: out,
  };
}
