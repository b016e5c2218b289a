import { ResponseCode, responseCodeName } from '../../remoting/requestCode.js';
import type { ConformClock } from '../clock.js';
import type { CheckName, FailureSite } from '../divergences.js';
import type { ClusterInfo, RouteAnswer, WireSession } from './wire.js';

/**
 * What the target should show, and the comparison with what it answers. Only
 * the run's own brokers are looked at (by broker name), so other brokers on a
 * shared name server never disturb a check.
 */
export interface Mismatch extends FailureSite {
  message: string;
}

/** One broker name as routes and cluster info should show it: its live addresses by broker id. */
export interface ExpectedGroup {
  clusterName: string;
  brokerName: string;
  /** broker id -> address; empty when none of the name is live. */
  addrs: Record<string, string>;
}

export interface ExpectedView {
  groups: ExpectedGroup[];
  /** The route read for `topic`: refused as not ready, served (with these broker names), or no route. */
  route: { topic: string; answer: 'not-ready' | 'absent' | { brokerNames: string[] } };
}

export const NOT_READY_REMARK = 'name server not ready';

/** Compares cluster info and one route read with the expected view; the first difference, or undefined. */
export async function compareView(
  wire: WireSession,
  expected: ExpectedView,
  check: CheckName = 'route-read',
): Promise<Mismatch | undefined> {
  const info = await wire.clusterInfo();
  const clusterMismatch = compareClusterInfo(info, expected.groups);
  if (clusterMismatch) return { ...clusterMismatch, check: check === 'route-read' ? 'cluster-info' : check };
  const route = await wire.route(expected.route.topic);
  const routeMismatch = compareRoute(route, expected);
  return routeMismatch ? { ...routeMismatch, check } : undefined;
}

function compareClusterInfo(info: ClusterInfo, groups: readonly ExpectedGroup[]): Omit<Mismatch, 'check'> | undefined {
  for (const group of groups) {
    const entry = info.brokerAddrTable[group.brokerName];
    const shown = entry?.brokerAddrs ?? {};
    const live = Object.keys(group.addrs).length > 0;
    const listed = (info.clusterAddrTable[group.clusterName] ?? []).includes(group.brokerName);
    if (!sameAddrs(shown, group.addrs)) {
      const kind = Object.keys(shown).length < Object.keys(group.addrs).length ? 'missing' : 'present';
      return {
        kind,
        message: `cluster info shows ${group.brokerName} with ${describeAddrs(shown)}, expected ${describeAddrs(group.addrs)}`,
      };
    }
    if (live && entry && entry.cluster !== group.clusterName) {
      return {
        kind: 'other',
        message: `cluster info puts ${group.brokerName} in cluster ${entry.cluster}, expected ${group.clusterName}`,
      };
    }
    if (live !== listed) {
      return {
        kind: live ? 'missing' : 'present',
        message: `cluster info ${listed ? 'lists' : 'does not list'} ${group.brokerName} under cluster ${group.clusterName}, expected it ${live ? 'listed' : 'gone'}`,
      };
    }
  }
  return undefined;
}

/** Compares one route read with the view's route; the difference, or undefined. */
export function compareRoute(route: RouteAnswer, expected: ExpectedView): Omit<Mismatch, 'check'> | undefined {
  const want = expected.route.answer;
  const topic = expected.route.topic;
  const said = `${responseCodeName(route.code)}${route.remark ? ` "${route.remark}"` : ''}`;
  if (want === 'not-ready') {
    if (route.code === ResponseCode.SYSTEM_ERROR && route.remark === NOT_READY_REMARK) return undefined;
    return {
      kind: 'other',
      message: `route read of ${topic} answered ${said}, expected SYSTEM_ERROR "${NOT_READY_REMARK}" (route requests refused)`,
    };
  }
  if (route.code === ResponseCode.SYSTEM_ERROR && route.remark === NOT_READY_REMARK) {
    return {
      kind: 'other',
      message: `route read of ${topic} answered SYSTEM_ERROR "${NOT_READY_REMARK}", expected routes to be served`,
    };
  }
  if (want === 'absent') {
    if (route.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    return {
      kind: 'present',
      message: `route read of ${topic} answered ${said}${route.route ? ` with ${describeRoute(route)}` : ''}, expected TOPIC_NOT_EXIST (no route)`,
    };
  }
  if (route.code !== ResponseCode.SUCCESS || !route.route)
    return { kind: 'missing', message: `route read of ${topic} answered ${said}, expected a route` };
  const byName = new Map(expected.groups.map((g) => [g.brokerName, g]));
  const datas = route.route.brokerDatas ?? [];
  const names = datas.map((d) => d.brokerName).sort();
  const wanted = [...want.brokerNames].sort();
  if (names.join(',') !== wanted.join(',')) {
    return {
      kind: names.length < wanted.length ? 'missing' : 'present',
      message: `route of ${topic} lists brokers [${names.join(', ')}], expected [${wanted.join(', ')}]`,
    };
  }
  for (const data of datas) {
    const group = byName.get(data.brokerName)!;
    if (data.cluster !== group.clusterName || !sameAddrs(data.brokerAddrs ?? {}, group.addrs)) {
      return {
        kind: Object.keys(data.brokerAddrs ?? {}).length < Object.keys(group.addrs).length ? 'missing' : 'present',
        message: `route of ${topic} shows ${data.brokerName} (cluster ${data.cluster}) with ${describeAddrs(data.brokerAddrs ?? {})}, expected ${describeAddrs(group.addrs)} in cluster ${group.clusterName}`,
      };
    }
  }
  const queueNames = [...new Set((route.route.queueDatas ?? []).map((q) => q.brokerName))].sort();
  if (queueNames.join(',') !== wanted.join(',')) {
    return {
      kind: 'other',
      message: `route of ${topic} has queues on [${queueNames.join(', ')}], expected [${wanted.join(', ')}]`,
    };
  }
  return undefined;
}

function sameAddrs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

function describeAddrs(addrs: Record<string, string>): string {
  const entries = Object.entries(addrs).sort(([x], [y]) => Number(x) - Number(y));
  return entries.length === 0 ? 'no address' : `{${entries.map(([id, addr]) => `${id}: ${addr}`).join(', ')}}`;
}

function describeRoute(route: RouteAnswer): string {
  return (route.route?.brokerDatas ?? [])
    .map((d) => `${d.brokerName} ${describeAddrs(d.brokerAddrs ?? {})}`)
    .join('; ');
}

/**
 * Checks until the target shows what is expected or `budgetMs` of target time
 * has passed (a Java name server applies unregistrations from a queue and
 * notices closed connections on its own thread). The last difference seen
 * when it never matched.
 */
export async function eventually(
  check: () => Promise<Mismatch | undefined>,
  clock: ConformClock,
  budgetMs: number,
): Promise<Mismatch | undefined> {
  const until = clock.now() + budgetMs;
  for (;;) {
    const mismatch = await check();
    if (!mismatch || clock.now() >= until) return mismatch;
    await clock.settle();
  }
}
