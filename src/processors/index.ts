import type { RequestHandler } from '../remoting/server.js';
import { RequestCode } from '../remoting/requestCode.js';
import {
  addWritePermOfBroker,
  brokerHeartbeat,
  getBrokerMemberGroup,
  queryDataVersion,
  registerBroker,
  unregisterBroker,
  wipeWritePermOfBroker,
} from './brokerProcessors.js';
import { getNamesrvConfig, updateNamesrvConfig } from './configProcessors.js';
import type { ProcessorContext } from './context.js';
import { requireAdminToken } from './adminToken.js';
import { deleteKvConfig, getKvConfig, getKvListByNamespace, putKvConfig } from './kvProcessors.js';
import {
  deleteTopicInNamesrv,
  getAllTopicList,
  getBrokerClusterInfo,
  getRouteInfoByTopic,
  getSystemTopicList,
  getTopicsByCluster,
  getUnitTopicList,
  registerTopicInNamesrv,
} from './routeProcessors.js';

/**
 * Every request code the name server answers, with its handler. Anything not
 * here gets REQUEST_CODE_NOT_SUPPORTED from the remoting server. Write
 * requests of operators go through requireAdminToken (a no-op unless
 * adminToken is configured, as RocketMQ has no such check).
 */
export function registerProcessors(
  server: { register(code: number, handler: RequestHandler): void },
  ctx: ProcessorContext,
): void {
  server.register(RequestCode.PUT_KV_CONFIG, requireAdminToken(ctx, RequestCode.PUT_KV_CONFIG, putKvConfig(ctx)));
  server.register(RequestCode.GET_KV_CONFIG, getKvConfig(ctx));
  server.register(
    RequestCode.DELETE_KV_CONFIG,
    requireAdminToken(ctx, RequestCode.DELETE_KV_CONFIG, deleteKvConfig(ctx)),
  );
  server.register(RequestCode.GET_KVLIST_BY_NAMESPACE, getKvListByNamespace(ctx));

  server.register(RequestCode.REGISTER_BROKER, registerBroker(ctx));
  server.register(RequestCode.UNREGISTER_BROKER, unregisterBroker(ctx));
  server.register(RequestCode.BROKER_HEARTBEAT, brokerHeartbeat(ctx));
  server.register(RequestCode.QUERY_DATA_VERSION, queryDataVersion(ctx));
  server.register(RequestCode.GET_BROKER_MEMBER_GROUP, getBrokerMemberGroup(ctx));
  server.register(
    RequestCode.WIPE_WRITE_PERM_OF_BROKER,
    requireAdminToken(ctx, RequestCode.WIPE_WRITE_PERM_OF_BROKER, wipeWritePermOfBroker(ctx)),
  );
  server.register(
    RequestCode.ADD_WRITE_PERM_OF_BROKER,
    requireAdminToken(ctx, RequestCode.ADD_WRITE_PERM_OF_BROKER, addWritePermOfBroker(ctx)),
  );

  server.register(RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfoByTopic(ctx));
  server.register(RequestCode.GET_BROKER_CLUSTER_INFO, getBrokerClusterInfo(ctx));
  server.register(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getAllTopicList(ctx));
  server.register(RequestCode.GET_TOPICS_BY_CLUSTER, getTopicsByCluster(ctx));
  server.register(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, getSystemTopicList(ctx));
  server.register(RequestCode.GET_UNIT_TOPIC_LIST, getUnitTopicList(ctx, 'unit'));
  server.register(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, getUnitTopicList(ctx, 'hasUnitSub'));
  server.register(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, getUnitTopicList(ctx, 'hasUnitSubUnUnit'));
  server.register(
    RequestCode.DELETE_TOPIC_IN_NAMESRV,
    requireAdminToken(ctx, RequestCode.DELETE_TOPIC_IN_NAMESRV, deleteTopicInNamesrv(ctx)),
  );
  server.register(
    RequestCode.REGISTER_TOPIC_IN_NAMESRV,
    requireAdminToken(ctx, RequestCode.REGISTER_TOPIC_IN_NAMESRV, registerTopicInNamesrv(ctx)),
  );

  server.register(
    RequestCode.UPDATE_NAMESRV_CONFIG,
    requireAdminToken(ctx, RequestCode.UPDATE_NAMESRV_CONFIG, updateNamesrvConfig(ctx)),
  );
  server.register(RequestCode.GET_NAMESRV_CONFIG, getNamesrvConfig(ctx));
}
