import type { NameServerEvent } from '../../../machines/nameServer.js';
import { stateName } from '../../observe/transitions.js';
import {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  STARTUP_DONE,
  type ModelPathNS,
  type ModelSnapshot,
  type SampleBroker,
} from '../model/lifecycleModel.js';
import { lifecycleDeadlineMs, type LifecyclePlanConfig } from '../plan/lifecyclePlan.js';
import type { PathRecord } from '../results.js';
import {
  compareRoute,
  compareView,
  eventually,
  type ExpectedGroup,
  type ExpectedView,
  type Mismatch,
} from '../target/observe.js';
import type { WireBroker } from '../target/wire.js';
import type { RunContext } from './context.js';
import type { HttpEvidence } from './httpEvidence.js';
import { CannotRunInTime, walk, type PathMeta, type StepPlan } from './walk.js';

/**
 * Runs one lifecycle path against a target started (just before, at
 * `startedAt`) with the path's settings. Brokers register, refresh, leave and
 * fall silent; time passes to the wait's end and deadline. After each step:
 * - route reads of the run's topic are refused ("name server not ready")
 *   exactly while the chart's state has no `servingRoutes` tag, and read twice
 *   they answer the same (a first successful read must not turn the server
 *   back to "not ready": apache/rocketmq#9182);
 * - cluster info shows exactly the live sample brokers;
 * - with --http, /readyz answers 200 exactly while the state has the `ready` tag,
 *   and the /ws gateway's getLifecycle names the chart's state.
 */
export interface LifecycleTarget {
  /** Target time at which start-up was over (or, for a target started by someone else, first contact). */
  startedAt: number;
  /** startedAt is conform's first contact with a target someone else started. */
  startedAtIsFirstContact?: boolean;
  http?: HttpEvidence;
}

export async function runLifecyclePath(
  path: ModelPathNS,
  config: LifecyclePlanConfig,
  meta: PathMeta,
  topic: string,
  target: LifecycleTarget,
  ctx: RunContext,
): Promise<PathRecord> {
  const { wire, clock, timing } = ctx;
  const settings = config.settings;
  const samples = new Map(
    config.brokers.map((b, i) => [
      `${b.clusterName}|${b.brokerAddr}`,
      { broker: wireBrokerOf(b, topic), connectionId: i + 1 },
    ]),
  );
  const lastRefresh = new Map<string, number>();
  /** Broker names whose queues for the topic exist: a master registered since the name was last empty. */
  const queueNames = new Set<string>();
  const keepAliveEveryMs = Math.max(
    1,
    Math.floor((timing.expiryMs ?? ctx.profile.expiry.fixedMs ?? timing.heartbeatTimeoutMs) / 3),
  );

  const sample = (key: string) => {
    const found = samples.get(key);
    if (!found) throw new Error(`the path names a broker that is not a sample of this configuration: ${key}`);
    return found;
  };

  /** Moves target time to `at`, refreshing every live broker but `except` often enough that none expires. */
  const advanceTo = async (at: number, live: readonly string[], except?: string) => {
    while (clock.now() < at) {
      for (const key of live) {
        if (key === except) continue;
        const { broker, connectionId } = sample(key);
        await wire.refresh(broker, connectionId, timing.heartbeatTimeoutMs);
        lastRefresh.set(key, clock.now());
      }
      await clock.advance(Math.min(at - clock.now(), keepAliveEveryMs));
    }
  };

  const steps: StepPlan[] = path.steps.map((step, index) => {
    const previous = index > 0 ? path.steps[index - 1]!.state : undefined;
    const event = step.event as NameServerEvent | { type: string };
    const liveBefore = previous ? [...previous.context.liveBrokers.keys()] : [];
    const plan = (action: string, drive: () => Promise<Mismatch | undefined | void>): StepPlan => ({
      eventType: event.type,
      action,
      from: previous ? stateName(previous.value) : null,
      to: stateName(step.state.value),
      run: async () => {
        // Steps are planned to happen before the chart's pending timer; when the
        // target's time has already run past it, the path cannot say anything.
        const deadline = previous ? lifecycleDeadlineMs(stateName(previous.value), settings) : undefined;
        const isTimer = event.type === AFTER_WAIT_FOR_SERVICE || event.type === AFTER_WAIT_TIMEOUT;
        if (deadline !== undefined && !isTimer && clock.now() - target.startedAt >= deadline) {
          throw new CannotRunInTime(
            `the steps took longer than planned: ${Math.round((clock.now() - target.startedAt) / 1000)} s after start-up, past the ${deadline / 1000} s timer of ${stateName(previous!.value)}`,
          );
        }
        const driven = await drive();
        if (driven) return driven;
        updateQueueNames(step.state, event);
        return judge(step.state);
      },
    });
    switch (event.type) {
      case 'xstate.init':
        return {
          eventType: event.type,
          action: `the target was started: ${describeSettings(settings)}`,
          from: null,
          to: stateName(step.state.value),
          run: async () => undefined,
        };
      case STARTUP_DONE:
        return plan('start-up over', async () => {
          const mismatch = await judge(step.state);
          if (!mismatch || !target.startedAtIsFirstContact || step.state.hasTag('servingRoutes')) return mismatch;
          // The likeliest cause is not the target: its wait ran out before conform came.
          return {
            ...mismatch,
            message: `${mismatch.message} (was the target started more than ${settings.waitSecondsForService} s before conform? Start conform right after the target.)`,
          };
        });
      case AFTER_WAIT_FOR_SERVICE: {
        const seconds = Math.min(settings.waitSecondsForService, settings.waitTimeoutSeconds);
        return plan(`time passes to ${seconds} s after start-up (waitSecondsForService), brokers kept alive`, () =>
          advanceTo(target.startedAt + seconds * 1000, liveBefore),
        );
      }
      case AFTER_WAIT_TIMEOUT:
        return plan(
          `time passes to ${settings.waitTimeoutSeconds} s after start-up (waitTimeoutSeconds), brokers kept alive`,
          () => advanceTo(target.startedAt + settings.waitTimeoutSeconds * 1000, liveBefore),
        );
      case 'BROKER.REGISTERED': {
        const key = (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration.brokerKey;
        const { broker, connectionId } = sample(key);
        return plan(`REGISTER_BROKER ${describeBroker(broker)} over its connection`, async () => {
          await wire.register(broker, connectionId, timing.heartbeatTimeoutMs);
          lastRefresh.set(key, clock.now());
        });
      }
      case 'BROKER.HEARTBEAT': {
        const key = (event as Extract<NameServerEvent, { type: 'BROKER.HEARTBEAT' }>).brokerKey;
        const { broker, connectionId } = sample(key);
        return plan(`${ctx.profile.refresh} of ${describeBroker(broker)}`, async () => {
          await wire.refresh(broker, connectionId, timing.heartbeatTimeoutMs);
          lastRefresh.set(key, clock.now());
        });
      }
      case 'BROKER.UNREGISTERED': {
        const { broker, connectionId } = sample(
          (event as Extract<NameServerEvent, { type: 'BROKER.UNREGISTERED' }>).brokerKey,
        );
        return plan(`UNREGISTER_BROKER ${describeBroker(broker)}`, () => wire.unregister(broker, connectionId));
      }
      case 'BROKER.CONNECTION_CLOSED': {
        const { broker, connectionId } = sample(
          (event as Extract<NameServerEvent, { type: 'BROKER.CONNECTION_CLOSED' }>).brokerKey,
        );
        return plan(`close the connection of ${describeBroker(broker)}`, async () => {
          await wire.close(broker, connectionId);
          await clock.advance(timing.quietMs);
        });
      }
      case 'BROKER.REMOVED': {
        const key = (event as Extract<NameServerEvent, { type: 'BROKER.REMOVED' }>).removal.brokerKey;
        const { broker } = sample(key);
        return plan(
          `${describeBroker(broker)} falls silent until its heartbeat timeout (${(timing.expiryMs ?? 0) / 1000} s here), others kept alive`,
          async () => {
            const expiryMs = timing.expiryMs!;
            const refreshed = lastRefresh.get(key) ?? clock.now();
            await advanceTo(refreshed + expiryMs - timing.marginMs, liveBefore, key);
            const early = await compareView(wire, viewOf(previous!));
            if (early)
              return {
                check: 'expiry',
                kind: early.kind,
                message: `gone ${timing.marginMs / 1000} s before its heartbeat timeout: ${early.message}`,
              };
            await advanceTo(refreshed + expiryMs, liveBefore, key);
            updateQueueNames(step.state, event);
            const late = await eventually(
              () => compareView(wire, viewOf(step.state)),
              clock,
              ctx.profile.expiry.scanSlackMs + timing.settleBudgetMs,
            );
            if (late)
              return {
                check: 'expiry',
                kind: late.kind,
                message: `${Math.round((clock.now() - refreshed) / 100) / 10} s after its last refresh (heartbeat timeout ${expiryMs / 1000} s): ${late.message}`,
              };
            return judge(step.state);
          },
        );
      }
      default:
        return plan(`(no way to drive ${event.type})`, async () => ({
          check: 'wire',
          kind: 'other',
          message: `conform cannot drive the chart event ${event.type}`,
        }));
    }
  });

  function viewOf(snapshot: ModelSnapshot): ExpectedView {
    const groups = new Map<string, ExpectedGroup>();
    for (const { broker } of samples.values())
      groups.set(broker.brokerName, { clusterName: broker.clusterName, brokerName: broker.brokerName, addrs: {} });
    for (const [key, live] of snapshot.context.liveBrokers)
      groups.get(live.brokerName)!.addrs[String(live.brokerId)] = sample(key).broker.brokerAddr;
    const serving = snapshot.hasTag('servingRoutes');
    const answer = !serving ? 'not-ready' : queueNames.size === 0 ? 'absent' : { brokerNames: [...queueNames] };
    return { groups: [...groups.values()], route: { topic, answer } };
  }

  function updateQueueNames(snapshot: ModelSnapshot, event: NameServerEvent | { type: string }): void {
    if (event.type === 'BROKER.REGISTERED') {
      const registration = (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration;
      // As in Java, only a master's registration creates the topic's queues.
      if (registration.brokerId === 0) queueNames.add(registration.brokerName);
    }
    const liveNames = new Set([...snapshot.context.liveBrokers.values()].map((b) => b.brokerName));
    for (const name of [...queueNames]) if (!liveNames.has(name)) queueNames.delete(name);
  }

  async function judge(snapshot: ModelSnapshot): Promise<Mismatch | undefined> {
    const view = viewOf(snapshot);
    const first = await eventually(() => compareView(wire, view), clock, timing.settleBudgetMs);
    if (first) return first;
    const second = compareRoute(await wire.route(topic), view);
    if (second)
      return {
        ...second,
        check: 'readiness',
        message: `the next route read answered differently (apache/rocketmq#9182): ${second.message}`,
      };
    if (target.http) {
      const probe = await target.http.readiness();
      const ready = snapshot.hasTag('ready');
      if (probe !== undefined && probe !== ready)
        return {
          check: 'readiness',
          kind: 'other',
          message: `/readyz says ${probe ? 'ready (200)' : 'not ready (503)'}, expected ${ready ? 'ready' : 'not ready'} in ${stateName(snapshot.value)}`,
        };
      const told = await target.http.lifecycle();
      const state = stateName(snapshot.value);
      const serving = snapshot.hasTag('servingRoutes');
      if (told && (told.detail !== state || told.servingRoutes !== serving)) {
        return {
          check: 'readiness',
          kind: 'other',
          message: `the /ws gateway says ${told.detail}${told.servingRoutes ? ', serving routes' : ', refusing routes'}; the chart says ${state}${serving ? ', serving routes' : ', refusing routes'}`,
        };
      }
    }
    return undefined;
  }

  try {
    return await walk(meta, steps, clock, ctx.profile, ctx.signal);
  } finally {
    for (const { broker } of samples.values()) await wire.release(broker);
  }
}

function wireBrokerOf(broker: SampleBroker, topic: string): WireBroker {
  return {
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    brokerId: broker.brokerId,
    topic,
  };
}

function describeBroker(broker: WireBroker): string {
  return `${broker.brokerId === 0 ? 'master' : 'slave'} ${broker.brokerName}@${broker.brokerAddr}`;
}

export function describeSettings(settings: LifecyclePlanConfig['settings']): string {
  if (!settings.needWaitForService) return 'needWaitForService=false';
  const parts = [`needWaitForService=true`, `waitSecondsForService=${settings.waitSecondsForService}`];
  if (settings.waitForBrokers > 0) parts.push(`waitForBrokers=${settings.waitForBrokers}`);
  if (settings.waitForBrokerNames.length > 0) parts.push(`waitForBrokerNames=${settings.waitForBrokerNames.join(',')}`);
  if (settings.waitForBrokers > 0 || settings.waitForBrokerNames.length > 0)
    parts.push(`waitTimeoutSeconds=${settings.waitTimeoutSeconds}`, `waitTimeoutAction=${settings.waitTimeoutAction}`);
  return parts.join(' ');
}
