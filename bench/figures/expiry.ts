/** Figure 6: 10,000 live brokers, 1,000 expire at the same instant. */
import { fmt, type BenchContext } from '../lib/context.js';
import { Child } from '../lib/rpc.js';

export async function figure6(ctx: BenchContext): Promise<void> {
  const execArgv = ['--expose-gc'];
  const child = ctx.own(Child.start('expiry', 'expiry', { execArgv }));
  const args = ctx.quick
    ? { clusters: 20, brokersPerCluster: 100, topicsPerBroker: 10, replication: 10, expireEvery: 10 }
    : { clusters: 100, brokersPerCluster: 100, topicsPerBroker: 10, replication: 10, expireEvery: 10 };
  const r = await child.call('run', args);
  await child.stop();
  ctx.log(
    `  ${r.brokers} brokers registered in ${fmt(r.registerMs)} ms (${r.before.topics} topics, ${r.before.queueEntries} entries)`,
  );
  ctx.log(
    `  ${r.expiring} expire at once: ${r.removedBrokers} removed, ${r.expiredTransitions} broker actors expired, ${r.routeChanges} route changes (${r.changedTopics} topic routes) published in ${fmt(r.totalMs)} ms (${fmt(r.syncMs)} ms inside the clock step); route table alone: ${fmt(r.tableOnlyMs)} ms`,
  );
  ctx.details.figure6 = r;
  const ok = r.removedBrokers === r.expiring && r.routeChanges === r.expiring;
  ctx.rows.push(
    {
      figure: '6 expiry',
      metric: `${r.expiring} of ${r.brokers} brokers expire at once: removed + published, ms`,
      value: fmt(r.totalMs),
      reference: `route table alone ${fmt(r.tableOnlyMs)}; Java scans every 5,000`,
      ratio: fmt(r.totalMs / r.tableOnlyMs),
      target: '-',
      met: ok ? '-' : 'no',
    },
    {
      figure: '6 expiry',
      metric: 'per expired broker, ms',
      value: fmt(r.totalMs / r.expiring, 3),
      reference: `table alone ${fmt(r.tableOnlyMs / r.expiring, 3)}`,
      ratio: fmt(r.totalMs / r.tableOnlyMs),
      target: '-',
      met: '-',
    },
  );
}
