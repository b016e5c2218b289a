import type { BrokerEvent } from '../../../machines/broker.js';
import { stateName } from '../../observe/transitions.js';
import { AFTER_HEARTBEAT_TIMEOUT, type BrokerSnapshot } from '../model/brokerModel.js';
import { FENCED_CLOSE_ORIGIN, type PlannedBrokerPath } from '../plan/brokerPlan.js';
import type { RunIdentity } from '../plan/identity.js';
import type { PathRecord } from '../results.js';
import { compareView, eventually, type ExpectedView, type Mismatch } from '../target/observe.js';
import type { WireBroker } from '../target/wire.js';
import type { RunContext } from './context.js';
import { walk, type PathMeta, type StepPlan } from './walk.js';

/**
 * Runs one broker-chart path against the target: one broker of its own
 * (address, broker name, topic), registering over its connections 1 and 2,
 * refreshing, unregistering, closing connections and falling silent. After
 * each step, cluster info and a route read of its topic must show the broker
 * exactly as the chart's state says: registered with its id and address, or
 * gone.
 */
export async function runBrokerPath(
  planned: PlannedBrokerPath,
  meta: PathMeta,
  n: number,
  identity: RunIdentity,
  ctx: RunContext,
): Promise<PathRecord> {
  const base: WireBroker = {
    clusterName: identity.clusterName,
    brokerName: identity.brokerName(n),
    brokerAddr: identity.brokerAddr(n),
    brokerId: 0,
    topic: identity.topic(n),
  };
  const as = (snapshot: BrokerSnapshot): WireBroker => ({ ...base, brokerId: snapshot.context.brokerId });
  const { wire, clock, timing } = ctx;
  let lastRefresh = clock.now();
  const steps: StepPlan[] = planned.path.steps.map((step, index) => {
    const previous = index > 0 ? planned.path.steps[index - 1]!.state : undefined;
    const event = step.event as BrokerEvent | { type: string };
    const expected = viewOf(base, step.state);
    const judge = (check: Mismatch['check'] = 'route-read') =>
      eventually(() => compareView(wire, expected, check), clock, timing.settleBudgetMs);
    const plan = (
      action: string,
      drive: () => Promise<Mismatch | undefined | void>,
      check?: Mismatch['check'],
    ): StepPlan => ({
      eventType: event.type,
      action,
      from: previous ? stateName(previous.value) : null,
      to: stateName(step.state.value),
      run: async () => (await drive()) ?? judge(check),
    });
    switch (event.type) {
      case 'xstate.init':
      case 'REGISTER': {
        const connectionId = step.state.context.connectionId;
        const role = step.state.context.brokerId === 0 ? 'master' : `slave (id ${step.state.context.brokerId})`;
        return plan(`REGISTER_BROKER as ${role} over connection ${connectionId}`, async () => {
          await wire.register(as(step.state), connectionId, timing.heartbeatTimeoutMs);
          lastRefresh = clock.now();
        });
      }
      case 'HEARTBEAT': {
        // Half a timeout of silence first, when the path later waits for the
        // expiry: only then does the expiry show whether this refresh counted.
        const late = planned.expires && timing.expiryMs !== undefined ? Math.floor(timing.expiryMs / 2) : 0;
        const request =
          ctx.profile.refresh === 'BROKER_HEARTBEAT'
            ? 'BROKER_HEARTBEAT'
            : 'REGISTER_BROKER again (4.9 has no BROKER_HEARTBEAT)';
        return plan(
          `${late ? `${late / 1000} s of silence, then ` : ''}${request} over connection ${previous!.context.connectionId}`,
          async () => {
            if (late) await clock.advance(late);
            await wire.refresh(as(previous!), previous!.context.connectionId, timing.heartbeatTimeoutMs);
            lastRefresh = clock.now();
          },
        );
      }
      case 'UNREGISTER':
        return plan(`UNREGISTER_BROKER over connection ${previous!.context.connectionId}`, () =>
          wire.unregister(as(previous!), previous!.context.connectionId),
        );
      case 'CONNECTION_CLOSED': {
        const connectionId = (event as Extract<BrokerEvent, { type: 'CONNECTION_CLOSED' }>).connectionId;
        const fenced = connectionId !== previous!.context.connectionId;
        return plan(
          `close connection ${connectionId}${fenced ? ` (the broker re-registered over connection ${previous!.context.connectionId}: nothing may change)` : ''}`,
          async () => {
            await wire.close(base, connectionId);
            // A removal caused by the close may come late; give it time to show.
            await clock.advance(timing.quietMs);
          },
          fenced && planned.path.origin === FENCED_CLOSE_ORIGIN ? 'fenced-close' : 'route-read',
        );
      }
      case AFTER_HEARTBEAT_TIMEOUT:
        return plan(`silence until the heartbeat timeout (${(timing.expiryMs ?? 0) / 1000} s on this target)`, () =>
          expire(previous!, step.state),
        );
      default:
        return plan(`(no way to drive ${event.type})`, async () => ({
          check: 'wire',
          kind: 'other',
          message: `conform cannot drive the chart event ${event.type}`,
        }));
    }
  });

  /** Still there just before the deadline, gone by the deadline plus the target's scan slack. */
  async function expire(before: BrokerSnapshot, after: BrokerSnapshot): Promise<Mismatch | undefined> {
    const expiryMs = timing.expiryMs!;
    const justBefore = lastRefresh + expiryMs - timing.marginMs;
    if (clock.now() < justBefore) await clock.advance(justBefore - clock.now());
    const early = await compareView(wire, viewOf(base, before));
    if (early)
      return {
        check: 'expiry',
        kind: early.kind,
        message: `gone ${timing.marginMs / 1000} s before its heartbeat timeout: ${early.message}`,
      };
    if (clock.now() < lastRefresh + expiryMs) await clock.advance(lastRefresh + expiryMs - clock.now());
    const late = await eventually(
      () => compareView(wire, viewOf(base, after)),
      clock,
      ctx.profile.expiry.scanSlackMs + timing.settleBudgetMs,
    );
    if (late)
      return {
        check: 'expiry',
        kind: late.kind,
        message: `${Math.round((clock.now() - lastRefresh) / 100) / 10} s after its last refresh (heartbeat timeout ${expiryMs / 1000} s): ${late.message}`,
      };
    return undefined;
  }

  try {
    return await walk(meta, steps, clock, ctx.profile, ctx.signal);
  } finally {
    await wire.release(base);
  }
}

/** What cluster info and the route read show of the path's broker in this chart state. */
function viewOf(broker: WireBroker, snapshot: BrokerSnapshot): ExpectedView {
  const registered = stateName(snapshot.value) === 'registered';
  const id = snapshot.context.brokerId;
  return {
    groups: [
      {
        clusterName: broker.clusterName,
        brokerName: broker.brokerName,
        addrs: registered ? { [String(id)]: broker.brokerAddr } : {},
      },
    ],
    // Only a master's registration creates the topic's queues (a slave sent no enableActingMaster: it never stands in).
    route: { topic: broker.topic, answer: registered && id === 0 ? { brokerNames: [broker.brokerName] } : 'absent' },
  };
}
