import type { NamesrvOptions } from '../config/schema.js';
import type { HttpReply, HttpServer } from './httpServer.js';

interface ConfigSource {
  get(): NamesrvOptions;
}

/** Every address-server path starts here (RocketMQ's MixAll.getWSAddr). */
export const ADDRESS_SERVER_PREFIX = '/rocketmq/';

/**
 * RocketMQ's address server: a broker started with
 * fetchNamesrvAddrByAddressServer=true, or a client with no namesrvAddr, asks
 * `http://<rocketmq.namesrv.domain>/rocketmq/<subgroup>` (`:8080` added when
 * the domain has no port) for the name server list, and with a unit name
 * `/rocketmq/<subgroup>-<unit>?nofix=1`. Answered from the live configuration
 * on every request, so an UPDATE_NAMESRV_CONFIG of namesrvAddrList takes
 * effect at the callers' next fetch. Served in every lifecycle state: a
 * waiting name server needs brokers to find it.
 */
export function registerAddressServerRoutes(http: HttpServer, config: ConfigSource): void {
  http.get(ADDRESS_SERVER_PREFIX, (request) =>
    answerAddressLookup(new URL(request.url ?? '/', 'http://localhost').pathname, config.get()),
  );
}

/**
 * The answer for one path. The query (`nofix=1`, extra parameters) selects
 * nothing: this server holds one list, for every unit.
 */
export function answerAddressLookup(path: string, config: NamesrvOptions): HttpReply {
  const subGroup = config.namesrvAddrSubGroup;
  const segment = path.slice(ADDRESS_SERVER_PREFIX.length);
  const served = `${ADDRESS_SERVER_PREFIX}${subGroup}`;
  // Java appends `-<unitName>` only when the unit name is not blank.
  const unit = segment.startsWith(`${subGroup}-`) ? segment.slice(subGroup.length + 1) : undefined;
  const isOurs = segment === subGroup || (unit !== undefined && unit !== '' && !unit.includes('/'));
  if (!isOurs) {
    return notFound(
      `no name server list at ${path}: this name server answers ${served} and ${served}-<unit> (namesrvAddrSubGroup=${subGroup})`,
    );
  }
  if (config.namesrvAddrList.length === 0) {
    return notFound(
      `namesrvAddrList is empty: this name server has no name server list to give out; set namesrvAddrList=host1:9876;host2:9876`,
    );
  }
  // RocketMQ's format, with no trailing newline: callers take the first line
  // and split it on ";" without trimming the entries.
  return {
    status: 200,
    contentType: 'text/plain; charset=utf-8',
    headers: { 'cache-control': 'no-store' },
    body: config.namesrvAddrList.join(';'),
  };
}

function notFound(message: string): HttpReply {
  return {
    status: 404,
    contentType: 'text/plain; charset=utf-8',
    headers: { 'cache-control': 'no-store' },
    body: `${message}\n`,
  };
}
