import { formatProperties, parseProperties } from '../config/properties.js';
import type { RemotingClient } from '../remoting/client.js';
import type { RemotingCommand } from '../remoting/command.js';
import { RequestCode, ResponseCode, responseCodeName } from '../remoting/requestCode.js';
import { parseFastjsonText } from '../protocol/fastjsonParser.js';
import type { BrokerData, ClusterInfo, TopicList, TopicRouteData } from '../protocol/types.js';
import type { HostPort } from './address.js';
import type { OptionSpecs, OptionValues } from './argv.js';
import { compareText } from '../util/compareText.js';
import { formatTable, json, permString, sortedIds } from './format.js';
import { ToolError, type ToolIo } from './io.js';
import {
  describeResponse,
  expectSuccess,
  onEveryServer,
  onFirstReachable,
  unreachableText,
  type ServerOutcome,
} from './nameServers.js';
import { runWatch, WATCH_OPTIONS } from './watch.js';

export interface CommandContext {
  values: OptionValues;
  addrs: HostPort[];
  json: boolean;
  timeoutMs: number;
  /** --tls: remoting connections speak TLS. */
  tls: boolean;
  io: ToolIo;
  env: Record<string, string | undefined>;
  /** Where watch looks for the gateway when nothing names it: 9877, RocketMQ-style fixed defaults. */
  defaultHttpPort: number;
}

export interface CommandDef {
  name: string;
  summary: string;
  /** Usage after the command name, e.g. `-t <topic>`. */
  usage: string;
  options: OptionSpecs;
  required: string[];
  /** read: first reachable server; write: every listed server; stream: the gateway. */
  kind: 'read' | 'write' | 'stream';
  run(ctx: CommandContext): Promise<number>;
}

const TOPIC: OptionSpecs = { topic: { type: 'string', short: 't', value: '<topic>', description: 'topic name' } };
const BROKER: OptionSpecs = {
  brokerName: { type: 'string', short: 'b', value: '<brokerName>', description: 'broker name' },
};
const NAMESPACE: OptionSpecs = {
  namespace: { type: 'string', short: 's', value: '<namespace>', description: 'KV namespace' },
};
const KEY: OptionSpecs = { key: { type: 'string', short: 'k', value: '<key>', description: 'key' } };
const VALUE: OptionSpecs = { value: { type: 'string', short: 'v', value: '<value>', description: 'value' } };

function str(ctx: CommandContext, name: string): string {
  return (ctx.values[name] as string).trim();
}

function parseBody<T>(addr: HostPort, response: RemotingCommand, what: string): T {
  const text = response.body?.toString('utf8') ?? '';
  const parsed = parseFastjsonText(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) {
    throw new ToolError(`${addr.text} sent an unreadable ${what} body${parsed.ok ? '' : `: ${parsed.error}`}`, 1);
  }
  return parsed.value as T;
}

/** One request to the first reachable server; an error answer is exit 1. */
async function read(
  ctx: CommandContext,
  code: number,
  extFields?: Record<string, string>,
): Promise<{ addr: HostPort; response: RemotingCommand }> {
  const { addr, value } = await onFirstReachable(ctx.addrs, ctx, (client) =>
    client.invoke(code, extFields ?? null, null, ctx.timeoutMs),
  );
  return { addr, response: expectSuccess(addr, code, value) };
}

async function invokeOk(
  client: RemotingClient,
  addr: HostPort,
  ctx: CommandContext,
  code: number,
  extFields?: Record<string, string>,
): Promise<RemotingCommand> {
  return expectSuccess(addr, code, await client.invoke(code, extFields ?? null, null, ctx.timeoutMs));
}

/**
 * Sends a write to every server and reports per server: successes on
 * stdout, failures on stderr. Exit 0 when all succeeded, 2 when any server
 * was unreachable, else 1 when any answered with an error.
 */
async function writeAll(
  ctx: CommandContext,
  request: { code: number; extFields?: Record<string, string>; body?: Buffer },
  describe: (response: RemotingCommand) => { text: string; data?: Record<string, unknown> },
): Promise<number> {
  const outcomes = await onEveryServer(ctx.addrs, ctx, request);
  const results: Array<Record<string, unknown>> = [];
  let exit = 0;
  for (const outcome of outcomes) {
    const entry = outcomeEntry(outcome);
    if (outcome.kind === 'unreachable') {
      exit = 2;
      ctx.io.stderr.write(`${unreachableText(outcome)}\n`);
    } else if (outcome.response.code !== ResponseCode.SUCCESS) {
      if (exit === 0) exit = 1;
      ctx.io.stderr.write(`${outcome.addr.text}: failed, ${describeResponse(outcome.response)}\n`);
    } else {
      const { text, data } = describe(outcome.response);
      Object.assign(entry, data ?? {});
      if (!ctx.json) ctx.io.stdout.write(`${outcome.addr.text}: OK, ${text}\n`);
    }
    results.push(entry);
  }
  if (ctx.json) ctx.io.stdout.write(json({ results }));
  return exit;
}

function outcomeEntry(outcome: ServerOutcome): Record<string, unknown> {
  if (outcome.kind === 'unreachable')
    return {
      nameServer: outcome.addr.text,
      ok: false,
      unreachable: true,
      error: outcome.error,
      ...(outcome.http ? { http: true } : {}),
    };
  const r = outcome.response;
  return {
    nameServer: outcome.addr.text,
    ok: r.code === ResponseCode.SUCCESS,
    code: r.code,
    codeName: responseCodeName(r.code),
    remark: r.remark ?? null,
  };
}

function brokerAddrsText(addrs: Record<string, string>): string {
  return (
    '{' +
    sortedIds(addrs)
      .map((id) => `${id}=${addrs[id]}`)
      .join(', ') +
    '}'
  );
}

// ---------------------------------------------------------------------------

const clusterList: CommandDef = {
  name: 'clusterList',
  summary: 'List clusters, broker names, broker ids and addresses (GET_BROKER_CLUSTER_INFO).',
  usage: '[-c <cluster>]',
  options: { clusterName: { type: 'string', short: 'c', value: '<cluster>', description: 'only this cluster' } },
  required: [],
  kind: 'read',
  async run(ctx) {
    const { addr, response } = await read(ctx, RequestCode.GET_BROKER_CLUSTER_INFO);
    const info = parseBody<ClusterInfo>(addr, response, 'cluster info');
    const brokerAddrTable = info.brokerAddrTable ?? {};
    let clusterAddrTable = info.clusterAddrTable ?? {};
    // Cluster and broker names are data: "constructor" or "__proto__" are legal
    // names, so a table is only ever read by its own keys.
    const brokerData = (name: string) => (Object.hasOwn(brokerAddrTable, name) ? brokerAddrTable[name] : undefined);
    const only = ctx.values.clusterName as string | undefined;
    if (only !== undefined) {
      const cluster = only.trim();
      const names = Object.hasOwn(clusterAddrTable, cluster) ? clusterAddrTable[cluster] : undefined;
      clusterAddrTable = names ? Object.fromEntries([[cluster, names]]) : {};
    }
    if (ctx.json) {
      // fromEntries defines own properties, so a broker named "__proto__" stays a key.
      const shownBrokers = Object.fromEntries(
        Object.values(clusterAddrTable)
          .flat()
          .flatMap((name): Array<[string, BrokerData]> => {
            const data = brokerData(name);
            return data ? [[name, data]] : [];
          }),
      );
      ctx.io.stdout.write(
        json({ brokerAddrTable: only === undefined ? brokerAddrTable : shownBrokers, clusterAddrTable }),
      );
      return 0;
    }
    const rows: string[][] = [];
    for (const cluster of Object.keys(clusterAddrTable).sort(compareText)) {
      for (const brokerName of [...(clusterAddrTable[cluster] ?? [])].sort(compareText)) {
        const data = brokerData(brokerName);
        if (!data) continue;
        for (const id of sortedIds(data.brokerAddrs ?? {})) rows.push([cluster, brokerName, id, data.brokerAddrs[id]!]);
      }
    }
    ctx.io.stdout.write(formatTable(['#Cluster Name', '#Broker Name', '#BID', '#Addr'], rows));
    return 0;
  },
};

const topicRoute: CommandDef = {
  name: 'topicRoute',
  summary: 'Show the route of a topic: brokers, addresses, queues, permissions (GET_ROUTEINFO_BY_TOPIC).',
  usage: '-t <topic>',
  options: TOPIC,
  required: ['topic'],
  kind: 'read',
  async run(ctx) {
    const topic = str(ctx, 'topic');
    const { addr, response } = await read(ctx, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
    const route = parseBody<TopicRouteData>(addr, response, 'route');
    if (ctx.json) {
      ctx.io.stdout.write(json(route));
      return 0;
    }
    const queues = new Map((route.queueDatas ?? []).map((q) => [q.brokerName, q]));
    const brokers = [...(route.brokerDatas ?? [])].sort((a, b) => compareText(a.brokerName, b.brokerName));
    let totalRead = 0;
    let totalWrite = 0;
    const rows = brokers.map((b) => {
      const q = queues.get(b.brokerName);
      totalRead += q?.readQueueNums ?? 0;
      totalWrite += q?.writeQueueNums ?? 0;
      return [
        b.cluster ?? '',
        b.brokerName,
        brokerAddrsText(b.brokerAddrs ?? {}),
        q ? String(q.readQueueNums) : '-',
        q ? String(q.writeQueueNums) : '-',
        q ? `${q.perm} ${permString(q.perm)}` : '-',
      ];
    });
    rows.push(['Total:', `${brokers.length} broker(s)`, '', String(totalRead), String(totalWrite), '']);
    ctx.io.stdout.write(
      formatTable(['#ClusterName', '#BrokerName', '#BrokerAddrs', '#ReadQueue', '#WriteQueue', '#Perm'], rows),
    );
    if (route.orderTopicConf) ctx.io.stdout.write(`orderTopicConf: ${route.orderTopicConf}\n`);
    return 0;
  },
};

const topicList: CommandDef = {
  name: 'topicList',
  summary: 'List every topic the name server knows (GET_ALL_TOPIC_LIST_FROM_NAMESERVER).',
  usage: '',
  options: {},
  required: [],
  kind: 'read',
  async run(ctx) {
    const { addr, response } = await read(ctx, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    const list = parseBody<TopicList>(addr, response, 'topic list');
    if (ctx.json) {
      ctx.io.stdout.write(json(list));
      return 0;
    }
    for (const topic of [...(list.topicList ?? [])].sort(compareText)) ctx.io.stdout.write(`${topic}\n`);
    return 0;
  },
};

const topicClusterList: CommandDef = {
  name: 'topicClusterList',
  summary: 'List the clusters that serve a topic.',
  usage: '-t <topic>',
  options: TOPIC,
  required: ['topic'],
  kind: 'read',
  async run(ctx) {
    const topic = str(ctx, 'topic');
    const { value: clusters } = await onFirstReachable(ctx.addrs, ctx, async (client, addr) => {
      const route = parseBody<TopicRouteData>(
        addr,
        await invokeOk(client, addr, ctx, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }),
        'route',
      );
      const found = new Set<string>();
      const unnamed: string[] = [];
      for (const b of route.brokerDatas ?? []) {
        if (b.cluster) found.add(b.cluster);
        else unnamed.push(b.brokerName);
      }
      if (unnamed.length > 0) {
        // Route data without the cluster field: look the broker names up, as mqadmin does.
        const info = parseBody<ClusterInfo>(
          addr,
          await invokeOk(client, addr, ctx, RequestCode.GET_BROKER_CLUSTER_INFO),
          'cluster info',
        );
        for (const [cluster, names] of Object.entries(info.clusterAddrTable ?? {})) {
          if (unnamed.some((n) => names.includes(n))) found.add(cluster);
        }
      }
      return [...found].sort(compareText);
    });
    if (ctx.json) ctx.io.stdout.write(json({ topic, clusters }));
    else for (const cluster of clusters) ctx.io.stdout.write(`${cluster}\n`);
    return 0;
  },
};

const getNamesrvConfig: CommandDef = {
  name: 'getNamesrvConfig',
  summary: 'Print the configuration of a name server (GET_NAMESRV_CONFIG).',
  usage: '[--all]',
  options: { all: { type: 'boolean', description: 'ask every listed name server, not only the first reachable one' } },
  required: [],
  kind: 'read',
  async run(ctx) {
    const configs: Array<{ addr: HostPort; entries: Array<[string, string]> }> = [];
    const toEntries = (addr: HostPort, response: RemotingCommand): Array<[string, string]> => {
      const parsed = parseProperties(response.body?.toString('utf8') ?? '');
      if (!parsed.ok)
        throw new ToolError(
          `${addr.text} sent unreadable properties: line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}`,
          1,
        );
      return [...parsed.values.entries()];
    };
    let exit = 0;
    if (ctx.values.all) {
      for (const outcome of await onEveryServer(ctx.addrs, ctx, { code: RequestCode.GET_NAMESRV_CONFIG })) {
        if (outcome.kind === 'unreachable') {
          exit = 2;
          ctx.io.stderr.write(`${unreachableText(outcome)}\n`);
        } else if (outcome.response.code !== ResponseCode.SUCCESS) {
          if (exit === 0) exit = 1;
          ctx.io.stderr.write(`${outcome.addr.text}: failed, ${describeResponse(outcome.response)}\n`);
        } else {
          configs.push({ addr: outcome.addr, entries: toEntries(outcome.addr, outcome.response) });
        }
      }
    } else {
      const { addr, response } = await read(ctx, RequestCode.GET_NAMESRV_CONFIG);
      configs.push({ addr, entries: toEntries(addr, response) });
    }
    if (ctx.json) {
      const out: Record<string, Record<string, string>> = {};
      for (const { addr, entries } of configs) out[addr.text] = Object.fromEntries(entries);
      ctx.io.stdout.write(json(out));
      return exit;
    }
    for (const { addr, entries } of configs) {
      ctx.io.stdout.write(`============${addr.text}============\n`);
      const width = Math.max(0, ...entries.map(([k]) => k.length));
      for (const [key, value] of entries) ctx.io.stdout.write(`${key.padEnd(width)} = ${value}\n`);
    }
    return exit;
  },
};

const updateNamesrvConfig: CommandDef = {
  name: 'updateNamesrvConfig',
  summary: 'Change one configuration key on every listed name server (UPDATE_NAMESRV_CONFIG).',
  usage: '-k <key> -v <value>',
  options: { ...KEY, ...VALUE },
  required: ['key', 'value'],
  kind: 'write',
  run(ctx) {
    const key = str(ctx, 'key');
    const value = str(ctx, 'value');
    const body = Buffer.from(formatProperties([[key, value]]), 'utf8');
    return writeAll(ctx, { code: RequestCode.UPDATE_NAMESRV_CONFIG, body }, () => ({
      text: `${key} = ${value}`,
      data: { key, value },
    }));
  },
};

function permCommand(name: string, code: number, countField: string, verb: string): CommandDef {
  return {
    name,
    summary: `${verb} write permission of a broker's topics on every listed name server.`,
    usage: '-b <brokerName>',
    options: BROKER,
    required: ['brokerName'],
    kind: 'write',
    run(ctx) {
      const brokerName = str(ctx, 'brokerName');
      return writeAll(ctx, { code, extFields: { brokerName } }, (response) => {
        const count = Number(response.extFields?.[countField] ?? 0);
        return { text: `${count} topic(s) of broker ${brokerName}`, data: { brokerName, [countField]: count } };
      });
    },
  };
}

const deleteTopic: CommandDef = {
  name: 'deleteTopic',
  summary: 'Delete a topic from every listed name server (brokers are not touched).',
  usage: '-t <topic> [-c <cluster>]',
  options: {
    ...TOPIC,
    clusterName: { type: 'string', short: 'c', value: '<cluster>', description: 'only the queues of this cluster' },
  },
  required: ['topic'],
  kind: 'write',
  run(ctx) {
    const topic = str(ctx, 'topic');
    const extFields: Record<string, string> = { topic };
    const cluster = ctx.values.clusterName as string | undefined;
    if (cluster !== undefined) extFields.clusterName = cluster.trim();
    return writeAll(ctx, { code: RequestCode.DELETE_TOPIC_IN_NAMESRV, extFields }, () => ({
      text: `deleted topic ${topic}${cluster !== undefined ? ` in cluster ${cluster.trim()}` : ''}`,
      data: { topic, ...(cluster !== undefined ? { clusterName: cluster.trim() } : {}) },
    }));
  },
};

const kvGet: CommandDef = {
  name: 'kv get',
  summary: 'Read one KV config value (GET_KV_CONFIG).',
  usage: '-s <namespace> -k <key>',
  options: { ...NAMESPACE, ...KEY },
  required: ['namespace', 'key'],
  kind: 'read',
  async run(ctx) {
    const namespace = str(ctx, 'namespace');
    const key = str(ctx, 'key');
    const { response } = await read(ctx, RequestCode.GET_KV_CONFIG, { namespace, key });
    const value = response.extFields?.value ?? '';
    ctx.io.stdout.write(ctx.json ? json({ namespace, key, value }) : `${value}\n`);
    return 0;
  },
};

const kvList: CommandDef = {
  name: 'kv list',
  summary: 'List the KV config of a namespace (GET_KVLIST_BY_NAMESPACE).',
  usage: '-s <namespace>',
  options: NAMESPACE,
  required: ['namespace'],
  kind: 'read',
  async run(ctx) {
    const namespace = str(ctx, 'namespace');
    const { addr, response } = await read(ctx, RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace });
    const table = parseBody<{ table?: Record<string, string> }>(addr, response, 'KV table').table ?? {};
    if (ctx.json) {
      ctx.io.stdout.write(json({ namespace, table }));
      return 0;
    }
    const keys = Object.keys(table).sort(compareText);
    ctx.io.stdout.write(
      formatTable(
        ['#Key', '#Value'],
        keys.map((k) => [k, table[k]!]),
      ),
    );
    return 0;
  },
};

const kvPut: CommandDef = {
  name: 'kv put',
  summary: 'Set a KV config value on every listed name server (PUT_KV_CONFIG).',
  usage: '-s <namespace> -k <key> -v <value>',
  options: { ...NAMESPACE, ...KEY, ...VALUE },
  required: ['namespace', 'key', 'value'],
  kind: 'write',
  run(ctx) {
    const namespace = str(ctx, 'namespace');
    const key = str(ctx, 'key');
    const value = str(ctx, 'value');
    return writeAll(ctx, { code: RequestCode.PUT_KV_CONFIG, extFields: { namespace, key, value } }, () => ({
      text: `${namespace} ${key} = ${value}`,
      data: { namespace, key, value },
    }));
  },
};

const kvDelete: CommandDef = {
  name: 'kv delete',
  summary: 'Delete a KV config value on every listed name server (DELETE_KV_CONFIG).',
  usage: '-s <namespace> -k <key>',
  options: { ...NAMESPACE, ...KEY },
  required: ['namespace', 'key'],
  kind: 'write',
  run(ctx) {
    const namespace = str(ctx, 'namespace');
    const key = str(ctx, 'key');
    return writeAll(ctx, { code: RequestCode.DELETE_KV_CONFIG, extFields: { namespace, key } }, () => ({
      text: `deleted ${namespace} ${key}`,
      data: { namespace, key },
    }));
  },
};

const watch: CommandDef = {
  name: 'watch',
  summary:
    'Follow the gateway (ws://<host>:<httpPort>/ws, httpPort asked of -n): lifecycle and broker transitions, route changes.',
  usage: '[--gateway ws://host:port/ws] [-t <topic>] [--changes] [--count <n>]',
  options: WATCH_OPTIONS,
  required: [],
  kind: 'stream',
  run: (ctx) => runWatch(ctx),
};

export const COMMANDS: readonly CommandDef[] = [
  clusterList,
  topicRoute,
  topicList,
  topicClusterList,
  getNamesrvConfig,
  updateNamesrvConfig,
  permCommand('wipeWritePerm', RequestCode.WIPE_WRITE_PERM_OF_BROKER, 'wipeTopicCount', 'Wipe'),
  permCommand('addWritePerm', RequestCode.ADD_WRITE_PERM_OF_BROKER, 'addTopicCount', 'Add back'),
  deleteTopic,
  kvGet,
  kvList,
  kvPut,
  kvDelete,
  watch,
];

/** mqadmin's names for the KV commands. */
export const ALIASES: Readonly<Record<string, string>> = {
  updateKvConfig: 'kv put',
  deleteKvConfig: 'kv delete',
};
