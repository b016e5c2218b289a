import type { RequestHandler } from '../remoting/server.js';
import { MQVersion, ResponseCode } from '../remoting/requestCode.js';
import { encodeTopicList, encodeTopicRouteData } from '../protocol/fastjsonWriter.js';
import type { QueueData } from '../protocol/types.js';
import { parseFastjsonText } from '../protocol/fastjsonParser.js';
import type { ProcessorContext } from './context.js';
import { NAMESPACE_ORDER_TOPIC_CONFIG } from './brokerProcessors.js';
import { readHeader } from './headers.js';
import { failure, success, systemError } from './respond.js';

const NOT_READY = 'name server not ready';
const TOPIC_ROUTE_FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

/**
 * GET_ROUTEINFO_BY_TOPIC, the hot path: a readiness flag check, a header
 * field, and a cached encoded route from the table. No actor is involved.
 */
export function getRouteInfoByTopic(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const topic = request.extFields?.topic;
    if (topic === undefined) return systemError(request, 'the custom field <topic> is null');
    if (!ctx.servingRoutes()) return systemError(request, NOT_READY);
    // Clients from 4.9.4 on parse standard JSON; older ones expect fastjson's
    // bare integer keys unless they ask otherwise.
    const standardJson =
      request.version >= MQVersion.V4_9_4 || request.extFields?.acceptStandardJsonOnly?.toLowerCase() === 'true';
    const options = ctx.config.get();
    if (options.orderMessageEnable) {
      const orderTopicConf = ctx.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
      if (orderTopicConf !== undefined) {
        const data = ctx.routes.pickupTopicRouteData(topic);
        if (!data) return topicNotExist(request, topic);
        return success(request, encodeTopicRouteData({ ...data, orderTopicConf }, standardJson));
      }
    }
    const body = ctx.routes.pickupTopicRoute(topic, standardJson);
    if (!body) return topicNotExist(request, topic);
    return success(request, body);
  };
}

function topicNotExist(request: Parameters<RequestHandler>[0], topic: string) {
  return failure(
    request,
    ResponseCode.TOPIC_NOT_EXIST,
    `No topic route info in name server for the topic: ${topic}${TOPIC_ROUTE_FAQ}`,
  );
}

/** GET_BROKER_CLUSTER_INFO: ClusterInfo {brokerAddrTable, clusterAddrTable}. */
export function getBrokerClusterInfo(ctx: ProcessorContext): RequestHandler {
  // Unlike routes, Java encodes cluster info fastjson-style for every client.
  return (request) => success(request, ctx.routes.getClusterInfo());
}

/** GET_ALL_TOPIC_LIST_FROM_NAMESERVER, unless enableAllTopicList is off. */
export function getAllTopicList(ctx: ProcessorContext): RequestHandler {
  return (request, connection) => {
    if (!ctx.config.get().enableAllTopicList) return systemError(request, 'disable');
    ctx.logger.debug({ client: connection.remoteAddress }, 'all topic list requested');
    return success(request, encodeTopicList(ctx.routes.getAllTopicList()));
  };
}

/** GET_TOPICS_BY_CLUSTER, unless enableTopicList is off. */
export function getTopicsByCluster(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    if (!ctx.config.get().enableTopicList) return systemError(request, 'disable');
    const read = readHeader(request, { cluster: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    return success(request, encodeTopicList(ctx.routes.getTopicsByCluster(read.header.cluster)));
  };
}

/** GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster and broker names, which brokers create as topics. */
export function getSystemTopicList(ctx: ProcessorContext): RequestHandler {
  return (request) => success(request, encodeTopicList(ctx.routes.getSystemTopicList()));
}

/** GET_UNIT_TOPIC_LIST, GET_HAS_UNIT_SUB_TOPIC_LIST, GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST. */
export function getUnitTopicList(
  ctx: ProcessorContext,
  kind: 'unit' | 'hasUnitSub' | 'hasUnitSubUnUnit',
): RequestHandler {
  return (request) => {
    if (!ctx.config.get().enableTopicList) return systemError(request, 'disable');
    const list =
      kind === 'unit'
        ? ctx.routes.getUnitTopics()
        : kind === 'hasUnitSub'
          ? ctx.routes.getHasUnitSubTopicList()
          : ctx.routes.getHasUnitSubUnUnitTopicList();
    return success(request, encodeTopicList(list));
  };
}

/** DELETE_TOPIC_IN_NAMESRV: from every broker, or from one cluster's brokers. */
export function deleteTopicInNamesrv(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { topic: 'string', clusterName: 'string?' });
    if (!read.ok) return systemError(request, read.remark);
    const { topic, clusterName } = read.header;
    ctx.routes.deleteTopic(topic, clusterName ? clusterName : undefined);
    return success(request);
  };
}

/** REGISTER_TOPIC_IN_NAMESRV: the body's queueDatas become the topic's queues. */
export function registerTopicInNamesrv(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { topic: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    if (!request.body || request.body.length === 0) return success(request);
    const parsed = parseFastjsonText(request.body.toString('utf8'));
    if (!parsed.ok) return systemError(request, `TopicRouteData body is not valid JSON: ${parsed.error}`);
    const queueDatas = (parsed.value as { queueDatas?: unknown } | null)?.queueDatas;
    if (queueDatas === undefined || queueDatas === null) return success(request);
    const validated = validateQueueDatas(queueDatas);
    if (!validated.ok) return systemError(request, validated.remark);
    if (validated.queueDatas.length > 0) ctx.routes.registerTopic(read.header.topic, validated.queueDatas);
    return success(request);
  };
}

function validateQueueDatas(value: unknown): { ok: true; queueDatas: QueueData[] } | { ok: false; remark: string } {
  if (!Array.isArray(value)) return { ok: false, remark: 'queueDatas must be an array' };
  const result: QueueData[] = [];
  for (const [index, item] of value.entries()) {
    const q = item as Record<string, unknown> | null;
    if (!q || typeof q !== 'object' || typeof q.brokerName !== 'string') {
      return { ok: false, remark: `queueDatas[${index}].brokerName must be a string` };
    }
    for (const field of ['readQueueNums', 'writeQueueNums', 'perm'] as const) {
      if (!Number.isInteger(q[field])) return { ok: false, remark: `queueDatas[${index}].${field} must be an integer` };
    }
    result.push({
      brokerName: q.brokerName,
      readQueueNums: q.readQueueNums as number,
      writeQueueNums: q.writeQueueNums as number,
      perm: q.perm as number,
      topicSysFlag: Number.isInteger(q.topicSysFlag) ? (q.topicSysFlag as number) : 0,
    });
  }
  return { ok: true, queueDatas: result };
}
