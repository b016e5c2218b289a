import type { NameServer, NameServerStartOptions } from '../../src/nameServer.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import type { RequestHandler } from '../../src/remoting/server.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import type { InProcessOptions } from '../../src/conform/target/inProcess.js';

/**
 * Deliberately faulty name servers, each built from xnamesrv with one known
 * bug, for the mutation tests of `xnamesrv conform` (mutation.test.ts): conform
 * must fail each of them on at least one named path. The faults live here,
 * in test code only, as small wrappers a test puts around a started server:
 * - request processors replaced on the remoting server, delegating to the real
 *   ones through NameServer.invokeProcessor (public);
 * - the lifecycle chart's implementations re-provided through the test seam
 *   NameServerStartOptions.reprovideLifecycle.
 * No production code path knows about any of them.
 */
export interface Mutant {
  name: string;
  /** The bug, in an operator's words, with the upstream issue it mirrors. */
  fault: string;
  options: InProcessOptions;
}

type Adapt = NonNullable<InProcessOptions['adapt']>;
type Reprovide = NonNullable<NameServerStartOptions['reprovideLifecycle']>;

/** Replaces the remoting handler of `code` with `wrap(real)`, where `real` runs the server's own processor. */
function wrapProcessor(server: NameServer, code: number, wrap: (real: RequestHandler) => RequestHandler): void {
  const real: RequestHandler = (request, connection) => server.invokeProcessor(request, connection);
  server.remoting.register(code, wrap(real));
}

const NOT_READY = 'name server not ready';

/**
 * apache/rocketmq#9182 (5.1.1): the readiness check was switched off after the
 * first successful route read, which made every later read "not ready".
 */
const notReadyAfterFirstRead: Adapt = (server) => {
  let servedOnce = false;
  wrapProcessor(server, RequestCode.GET_ROUTEINFO_BY_TOPIC, (real) => async (request, connection) => {
    if (servedOnce && server.config.get().needWaitForService)
      return createResponse(request, ResponseCode.SYSTEM_ERROR, NOT_READY);
    const response = await real(request, connection);
    if (response?.code === ResponseCode.SUCCESS) servedOnce = true;
    return response;
  });
};

/** Expired brokers stay in the routes: the expiry reaches the broker's actor but never the route table. */
const noExpiry: Reprovide = (machine) => {
  const removeFromRoutes = machine.implementations.actions.removeBrokerFromRoutes as (...args: unknown[]) => void;
  return machine.provide({
    actions: {
      removeBrokerFromRoutes: (...args: unknown[]) => {
        const event = (args[0] as { event: { removal?: { reason: string } } }).event;
        if (event.removal?.reason !== 'expired') removeFromRoutes(...args);
      },
    },
  });
};

/**
 * apache/rocketmq#11043: a connection's close unregisters every broker that
 * ever registered over it, by cluster and address, also when the broker has
 * since registered again over a new connection.
 */
const staleUnregister: Adapt = (server) => {
  const registeredOver = new Map<number, Array<Record<string, string>>>();
  wrapProcessor(server, RequestCode.REGISTER_BROKER, (real) => async (request, connection) => {
    const response = await real(request, connection);
    const header = request.extFields ?? {};
    if (response?.code === ResponseCode.SUCCESS) {
      const list = registeredOver.get(connection.id) ?? [];
      list.push({
        clusterName: header.clusterName!,
        brokerAddr: header.brokerAddr!,
        brokerName: header.brokerName!,
        brokerId: header.brokerId!,
      });
      registeredOver.set(connection.id, list);
    }
    return response;
  });
  server.remoting.onConnectionClosed((connection) => {
    for (const broker of registeredOver.get(connection.id) ?? []) {
      void server.invokeProcessor(createRequest(RequestCode.UNREGISTER_BROKER, broker), connection);
    }
    registeredOver.delete(connection.id);
  });
};

/**
 * A slave that re-registers as master at the same address keeps its old
 * entry: routes and cluster info list the address under both ids (the Java
 * name server removes `<1, addr>` before adding `<0, addr>`).
 */
const slaveToMasterKeepsOldId: Adapt = (server) => {
  const idByAddr = new Map<string, number>();
  /** brokerName -> the id an address had before it became master. */
  const leftBehind = new Map<string, { addr: string; id: string }>();
  wrapProcessor(server, RequestCode.REGISTER_BROKER, (real) => async (request, connection) => {
    const response = await real(request, connection);
    const { brokerName, brokerAddr, brokerId } = request.extFields ?? {};
    if (response?.code === ResponseCode.SUCCESS && brokerName && brokerAddr && brokerId) {
      const before = idByAddr.get(brokerAddr);
      if (before !== undefined && before !== 0 && brokerId === '0')
        leftBehind.set(brokerName, { addr: brokerAddr, id: String(before) });
      idByAddr.set(brokerAddr, Number(brokerId));
    }
    return response;
  });
  const addLeftBehind = (addrsByName: Array<{ brokerName: string; brokerAddrs: Record<string, string> }>) => {
    for (const data of addrsByName) {
      const stale = leftBehind.get(data.brokerName);
      if (stale && data.brokerAddrs['0'] === stale.addr) data.brokerAddrs[stale.id] = stale.addr;
    }
  };
  const rewriting = (code: number, edit: (body: any) => void) =>
    wrapProcessor(server, code, (real) => async (request, connection) => {
      const response = await real(request, connection);
      if (response?.code !== ResponseCode.SUCCESS || !response.body) return response;
      const parsed = parseFastjsonText(response.body.toString('utf8'));
      if (!parsed.ok) return response;
      edit(parsed.value);
      return { ...response, body: Buffer.from(JSON.stringify(parsed.value)) } satisfies RemotingCommand;
    });
  rewriting(RequestCode.GET_ROUTEINFO_BY_TOPIC, (route) => addLeftBehind(route.brokerDatas ?? []));
  rewriting(RequestCode.GET_BROKER_CLUSTER_INFO, (info) => addLeftBehind(Object.values(info.brokerAddrTable ?? {})));
};

/** The wait for service has no end: neither its minimum wait nor its deadline ever fires. */
const waitNeverEnds: Reprovide = (machine) =>
  machine.provide({ delays: { waitForService: NEVER_MS, waitTimeout: NEVER_MS } });
const NEVER_MS = 2 ** 31 - 1;

/** Ready as soon as the minimum wait is over, whether or not the wait target (brokers, names) is met. */
const readyBeforeTarget: Reprovide = (machine) => machine.provide({ guards: { waitTargetMet: () => true } });

/** BROKER_HEARTBEAT is answered SUCCESS but refreshes nothing: brokers that only heartbeat expire. */
const heartbeatIgnored: Adapt = (server) => {
  server.remoting.register(RequestCode.BROKER_HEARTBEAT, (request) => createResponse(request, ResponseCode.SUCCESS));
};

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'not ready again after the first route read (apache/rocketmq#9182)',
    fault: 'route reads answer "name server not ready" after the first successful one',
    options: { adapt: notReadyAfterFirstRead },
  },
  {
    name: 'no expiry',
    fault: 'a broker that stops refreshing stays in routes and cluster info',
    options: { startOptions: { reprovideLifecycle: noExpiry } },
  },
  {
    name: 'stale unregister removes a fresh registration (apache/rocketmq#11043)',
    fault: "closing a broker's old connection removes its registration over the new one",
    options: { adapt: staleUnregister },
  },
  {
    name: 'slave-to-master switch leaves the old id',
    fault: 'a slave re-registering as master at its address stays listed under its slave id too',
    options: { adapt: slaveToMasterKeepsOldId },
  },
  {
    name: 'a wait that never ends',
    fault: 'with needWaitForService, route reads are refused forever: the wait has no end and no deadline',
    options: { startOptions: { reprovideLifecycle: waitNeverEnds } },
  },
  {
    name: 'readiness before the wait target is met',
    fault:
      'routes are served once waitSecondsForService passed, though waitForBrokers / waitForBrokerNames are not met',
    options: { startOptions: { reprovideLifecycle: readyBeforeTarget } },
  },
  {
    name: 'heartbeats refresh nothing',
    fault: 'BROKER_HEARTBEAT is answered but does not push the expiry back',
    options: { adapt: heartbeatIgnored },
  },
];
