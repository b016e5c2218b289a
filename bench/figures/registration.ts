/**
 * Figure 3: what one REGISTER_BROKER of a 10,000-topic broker costs, end to
 * end over TCP (send to answer), one at a time: first registration, unchanged
 * re-registration (same DataVersion), changed re-registration (new
 * DataVersion, one topic changed); JSON and compressed bodies. Beside each:
 * the longest the server's event loop was blocked meanwhile.
 */
import { fmt, type BenchContext } from '../lib/context.js';
import { Child } from '../lib/rpc.js';
import type { Topology } from '../lib/topology.js';

const JAVA = { changed: 73, unchanged: 63 };

export async function figure3(ctx: BenchContext): Promise<void> {
  const { child: ns, port } = await ctx.startServer('xnamesrv-registration');
  const brokers = ctx.own(Child.start('brokers-registration', 'brokerLoad'));
  const firsts = ctx.quick ? 3 : 6;
  const repeats = ctx.quick ? 6 : 12;
  const out: Record<string, unknown> = {};
  for (const compressed of [false, true]) {
    const format = compressed ? 'compressed' : 'JSON';
    // Every broker its own 10,000 topics, new to the table: the worst first registration.
    const topology: Topology = {
      clusters: 1,
      brokersPerCluster: firsts,
      topicsPerBroker: 10_000,
      replication: 1,
      topicPrefix: compressed ? 'RegZ_' : 'RegJ_',
      brokerOffset: compressed ? 5000 : 4000,
    };
    const prep = await brokers.call('costPrepare', { port, topology, compressed, firsts });
    const step = async (name: string, args: unknown = {}) => {
      await ns.call('phase');
      const r = await brokers.call(name, args);
      const p = await ns.call('phase');
      const count = Object.values(r.codes as Record<string, number>).reduce((a, b) => a + b, 0);
      return { ...r, loopMaxMs: p.loopMaxMs, mainThreadMsEach: p.mainThreadMs / count };
    };
    const first = await step('costFirst');
    const unchanged = await step('costUnchanged', { repeats });
    const changed = await step('costChanged', { repeats });
    const d = (x: { p50Ms: number; mainThreadMsEach: number; loopMaxMs: number }) =>
      `p50 ${fmt(x.p50Ms)} ms (event loop busy ${fmt(x.mainThreadMsEach)} ms each, max delay ${fmt(x.loopMaxMs)})`;
    ctx.log(
      `  ${format} body ${fmt(prep.bodyBytes / 1e6)} MB: first ${d(first)}, unchanged ${d(unchanged)}, changed ${d(changed)}${compressed ? '' : `; JSON.parse of the body here: ${fmt(prep.jsonParseMs)} ms`}; codes ${JSON.stringify([first.codes, unchanged.codes, changed.codes])}`,
    );
    out[format] = { bodyBytes: prep.bodyBytes, jsonParseMs: prep.jsonParseMs, first, unchanged, changed };
    const ratio = unchanged.p50Ms / first.p50Ms;
    ctx.rows.push(
      {
        figure: '3 registration',
        metric: `${format} 10k topics: first, ms (p50; event loop busy)`,
        value: `${fmt(first.p50Ms)}; ${fmt(first.mainThreadMsEach)}`,
        reference: compressed ? '-' : `JSON.parse of body ${fmt(prep.jsonParseMs)}`,
        ratio: compressed ? '-' : fmt(first.p50Ms / prep.jsonParseMs),
        target: '-',
        met: '-',
      },
      {
        figure: '3 registration',
        metric: `${format}: unchanged re-registration, ms`,
        value: `${fmt(unchanged.p50Ms)}; ${fmt(unchanged.mainThreadMsEach)}`,
        reference: `first ${fmt(first.p50Ms)}; Java ${JAVA.unchanged}`,
        ratio: fmt(ratio),
        target: '< 0.1 of first',
        met: ratio < 0.1 ? 'yes' : 'no',
      },
      {
        figure: '3 registration',
        metric: `${format}: changed re-registration, ms`,
        value: `${fmt(changed.p50Ms)}; ${fmt(changed.mainThreadMsEach)}`,
        reference: `Java ${JAVA.changed}`,
        ratio: fmt(changed.p50Ms / JAVA.changed),
        target: '-',
        met: '-',
      },
    );
  }
  ctx.details.figure3 = out;
  await brokers.stop();
  await ns.stop();
}
