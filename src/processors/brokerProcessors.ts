import { brokerKeyOf } from '../../machines/broker.js';
import type { RemotingCommand } from '../remoting/command.js';
import type { RemotingConnection, RequestHandler } from '../remoting/server.js';
import type { RegisterBrokerResult, RegisterRefusal } from '../route/routeTable.js';
import type { ProcessorContext } from './context.js';
import { readHeader } from './headers.js';
import { encodeBrokerMemberGroupBody, encodeDataVersion } from '../protocol/fastjsonWriter.js';
import { failure, jsonBody, success, systemError } from './respond.js';
import { errorMessage } from '../util/errorMessage.js';

/** RocketMQ's default when a broker does not say: 120 s without a refresh. */
export const DEFAULT_BROKER_HEARTBEAT_TIMEOUT_MS = 120_000;
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

const registerBrokerHeader = {
  brokerName: 'string',
  brokerAddr: 'string',
  clusterName: 'string',
  haServerAddr: 'string',
  brokerId: 'long',
  heartbeatTimeoutMillis: 'long?',
  enableActingMaster: 'boolean?',
  compressed: 'boolean?',
  bodyCrc32: 'int?',
  zoneName: 'string?',
} as const;

/**
 * REGISTER_BROKER: the route table applies the registration (all or nothing)
 * and the broker's actor is created or refreshed, which restarts its expiry.
 * The actor hears of it before the route change is announced, so the stream
 * shows the broker `registered` before the route push it causes.
 */
export function registerBroker(ctx: ProcessorContext): RequestHandler {
  return (request, connection) => {
    const read = readHeader(request, registerBrokerHeader);
    if (!read.ok) return systemError(request, read.remark);
    const header = read.header;
    const heartbeatTimeoutMillis =
      header.heartbeatTimeoutMillis && header.heartbeatTimeoutMillis > 0
        ? header.heartbeatTimeoutMillis
        : DEFAULT_BROKER_HEARTBEAT_TIMEOUT_MS;
    const submitted = ctx.routes.submitRegistration({
      clusterName: header.clusterName,
      brokerAddr: header.brokerAddr,
      brokerName: header.brokerName,
      brokerId: header.brokerId,
      haServerAddr: header.haServerAddr,
      zoneName: header.zoneName,
      enableActingMaster: header.enableActingMaster,
      heartbeatTimeoutMillis,
      connectionId: connection.id,
      now: ctx.clock.now(),
      clientVersion: request.version,
      body: request.body ?? undefined,
      compressed: header.compressed ?? false,
      bodyCrc32: header.bodyCrc32 ?? 0,
      beforeAnnounce: (result) =>
        startBrokerLiveness(ctx, connection, header, heartbeatTimeoutMillis, result.generation),
    });
    // A large body is decoded off the event loop and applied in arrival order:
    // the answer then comes when it is applied.
    const finish = (result: RegisterBrokerResult) => registered(ctx, request, header, result);
    return submitted instanceof Promise ? submitted.then(finish) : finish(submitted);
  };
}

/** Hands an applied registration to the broker's actor, bound to the connection it came over. */
function startBrokerLiveness(
  ctx: ProcessorContext,
  connection: RemotingConnection,
  header: { clusterName: string; brokerAddr: string; brokerName: string; brokerId: number },
  heartbeatTimeoutMillis: number,
  generation: number,
): void {
  const brokerKey = brokerKeyOf(header.clusterName, header.brokerAddr);
  // A connection that closed while its registration waited has already been
  // reported closed: the broker is registered and then dropped with it, not
  // left to expire.
  if (!connection.closed) ctx.bindBrokerToConnection(connection.id, brokerKey);
  ctx.sendToLifecycle({
    type: 'BROKER.REGISTERED',
    registration: {
      brokerKey,
      clusterName: header.clusterName,
      brokerName: header.brokerName,
      brokerAddr: header.brokerAddr,
      brokerId: header.brokerId,
      generation,
      connectionId: connection.id,
      heartbeatTimeoutMillis,
    },
  });
  if (connection.closed)
    ctx.sendToLifecycle({ type: 'BROKER.CONNECTION_CLOSED', brokerKey, connectionId: connection.id });
}

/** Why a registration was refused, in the log's words (the broker itself gets Java's remark). */
const REFUSAL_EXPLANATION: Record<RegisterRefusal, (remark: string) => string> = {
  crc: () => 'the body does not match its bodyCrc32 header (corrupted on the way?); nothing changed',
  badBody: (remark) => `${remark}; nothing changed`,
  singleTopicBeforeFirstRegistration: () =>
    'a registration of a single topic came before any full registration of this broker (RocketMQ 5.x sends single-topic registrations only after a full one); nothing changed, the broker is registered by its next full registration',
  stateVersionConflict: () => 'an older stateVersion than the broker registered at this id',
};

function registered(
  ctx: ProcessorContext,
  request: RemotingCommand,
  header: { clusterName: string; brokerAddr: string; brokerName: string; brokerId: number },
  result: RegisterBrokerResult,
): RemotingCommand {
  if (!result.ok && result.reason === 'stateVersionConflict') {
    // Java answers an outdated broker with a bare SUCCESS and changes nothing.
    ctx.logger.warn(
      { broker: header.brokerAddr, cluster: header.clusterName },
      'broker registration ignored: older stateVersion',
    );
    return success(request);
  }
  if (!result.ok) {
    ctx.logger.warn(
      {
        broker: header.brokerAddr,
        brokerName: header.brokerName,
        brokerId: header.brokerId,
        cluster: header.clusterName,
        reason: result.reason,
        remark: result.remark,
      },
      `broker ${header.brokerAddr} registration refused: ${REFUSAL_EXPLANATION[result.reason](result.remark)}`,
    );
    return failure(request, result.code, result.remark);
  }
  const orderTopicConfig = ctx.config.get().returnOrderTopicConfigToBroker
    ? ctx.kv.getKVListByNamespace(NAMESPACE_ORDER_TOPIC_CONFIG)
    : undefined;
  const body = orderTopicConfig ? jsonBody({ table: orderTopicConfig }) : undefined;
  const responseHeader: Record<string, string> = {};
  if (result.haServerAddr !== undefined) responseHeader.haServerAddr = result.haServerAddr;
  if (result.masterAddr !== undefined) responseHeader.masterAddr = result.masterAddr;
  return success(request, body, responseHeader);
}

/**
 * UNREGISTER_BROKER: removed from routes once the registrations received
 * before it are applied (a large one may still be decoding); the actor ends
 * as `unregistered`.
 */
export function unregisterBroker(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, {
      brokerName: 'string',
      brokerAddr: 'string',
      clusterName: 'string',
      brokerId: 'long',
    });
    if (!read.ok) return systemError(request, read.remark);
    const { clusterName, brokerAddr, brokerName, brokerId } = read.header;
    const done = ctx.routes.afterQueuedRegistrations(() => {
      ctx.routes.unregisterBroker({ clusterName, brokerAddr, brokerName, brokerId }, () =>
        ctx.sendToLifecycle({ type: 'BROKER.UNREGISTERED', brokerKey: brokerKeyOf(clusterName, brokerAddr) }),
      );
    });
    return done instanceof Promise ? done.then(() => success(request)) : success(request);
  };
}

/** BROKER_HEARTBEAT (5.x): refreshes liveness without a registration body. */
export function brokerHeartbeat(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { clusterName: 'string', brokerAddr: 'string', brokerName: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    ctx.sendToLifecycle({
      type: 'BROKER.HEARTBEAT',
      brokerKey: brokerKeyOf(read.header.clusterName, read.header.brokerAddr),
    });
    return success(request);
  };
}

/** QUERY_DATA_VERSION: tells a broker whether its topic config changed, and counts as a refresh. */
export function queryDataVersion(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, {
      brokerName: 'string',
      brokerAddr: 'string',
      clusterName: 'string',
      brokerId: 'long',
    });
    if (!read.ok) return systemError(request, read.remark);
    const { clusterName, brokerAddr } = read.header;
    const parsed = parseDataVersion(request.body);
    if (!parsed.ok) return systemError(request, parsed.remark);
    const answer = ctx.routes.queryDataVersion({ clusterName, brokerAddr, dataVersion: parsed.dataVersion });
    ctx.sendToLifecycle({ type: 'BROKER.HEARTBEAT', brokerKey: brokerKeyOf(clusterName, brokerAddr) });
    return success(request, answer.current ? encodeDataVersion(answer.current) : undefined, {
      changed: String(answer.changed),
    });
  };
}

function parseDataVersion(
  body: Buffer | null | undefined,
):
  | { ok: true; dataVersion: { stateVersion?: number; timestamp: number; counter: number } | undefined }
  | { ok: false; remark: string } {
  if (!body || body.length === 0) return { ok: true, dataVersion: undefined };
  try {
    const value = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (!value || typeof value !== 'object') return { ok: false, remark: 'DataVersion body is not a JSON object' };
    return {
      ok: true,
      dataVersion: {
        stateVersion: Number(value.stateVersion ?? 0),
        timestamp: Number(value.timestamp ?? 0),
        counter: Number(value.counter ?? 0),
      },
    };
  } catch (err) {
    return { ok: false, remark: `DataVersion body is not valid JSON: ${errorMessage(err)}` };
  }
}

/** GET_BROKER_MEMBER_GROUP: the live members of one broker name. */
export function getBrokerMemberGroup(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { clusterName: 'string', brokerName: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const group = ctx.routes.getBrokerMemberGroup(read.header.clusterName, read.header.brokerName);
    return success(request, encodeBrokerMemberGroupBody(group));
  };
}

/** WIPE_WRITE_PERM_OF_BROKER: clears the write bit of every queue of a broker name. */
export function wipeWritePermOfBroker(ctx: ProcessorContext): RequestHandler {
  return (request, connection) => {
    const read = readHeader(request, { brokerName: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const count = ctx.routes.wipeWritePermOfBroker(read.header.brokerName);
    ctx.logger.info(
      { brokerName: read.header.brokerName, client: connection.remoteAddress, topics: count },
      'wiped write permission of broker',
    );
    return success(request, undefined, { wipeTopicCount: String(count) });
  };
}

/** ADD_WRITE_PERM_OF_BROKER: gives the write bit back. */
export function addWritePermOfBroker(ctx: ProcessorContext): RequestHandler {
  return (request, connection) => {
    const read = readHeader(request, { brokerName: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const count = ctx.routes.addWritePermOfBroker(read.header.brokerName);
    ctx.logger.info(
      { brokerName: read.header.brokerName, client: connection.remoteAddress, topics: count },
      'added write permission of broker',
    );
    return success(request, undefined, { addTopicCount: String(count) });
  };
}
