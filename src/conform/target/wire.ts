import { crc32 } from 'node:zlib';
import { RemotingClient } from '../../remoting/client.js';
import type { RemotingCommand } from '../../remoting/command.js';
import { RequestCode, ResponseCode, responseCodeName } from '../../remoting/requestCode.js';
import { parseFastjsonText } from '../../protocol/fastjsonParser.js';
import { encodeRegisterBrokerBody } from '../../protocol/registerBody.js';
import type { TargetProfile } from './profile.js';

/** Where the target's remoting port is. */
export interface TargetAddress {
  host: string;
  port: number;
}

/** One broker a path registers: who it is and the one topic it carries. */
export interface WireBroker {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  topic: string;
}

/** A request the target answered with something else than the path needs, in words. */
export class UnexpectedAnswer extends Error {}

/** What the target said about one topic's route. */
export interface RouteAnswer {
  code: number;
  remark: string | null;
  route?: {
    brokerDatas: Array<{ cluster: string; brokerName: string; brokerAddrs: Record<string, string> }>;
    queueDatas: Array<{ brokerName: string }>;
  };
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }>;
  clusterAddrTable: Record<string, string[]>;
}

/**
 * Speaks to the target as brokers and as a client do, over the RocketMQ
 * remoting protocol only. Each broker has its own TCP connections, numbered
 * as the model numbers them (connection 1, 2), because a broker's liveness is
 * tied to the connection it registered over. Remembers every broker it
 * registered until it is told the broker is gone, so a run can clean up.
 */
export class WireSession {
  private readonly connections = new Map<string, RemotingClient>();
  private reader: RemotingClient | undefined;
  private readerConnecting: Promise<RemotingClient> | undefined;
  private readonly connecting = new Map<string, Promise<RemotingClient>>();
  /** Brokers registered in this session, by `cluster|addr`, with every broker id used. */
  private readonly registered = new Map<string, { broker: WireBroker; ids: Set<number> }>();

  constructor(
    readonly target: TargetAddress,
    private readonly profile: TargetProfile,
    private readonly requestTimeoutMs: number,
  ) {}

  /** REGISTER_BROKER over connection `connectionId` of this broker, as a broker of the target's generation sends it. */
  async register(broker: WireBroker, connectionId: number, heartbeatTimeoutMillis: number): Promise<void> {
    const client = await this.connection(broker, connectionId);
    const entry = this.registered.get(keyOf(broker)) ?? { broker, ids: new Set<number>() };
    entry.ids.add(broker.brokerId);
    this.registered.set(keyOf(broker), entry);
    const { extFields, body } = registerRequest(broker, heartbeatTimeoutMillis, this.profile.kind !== 'rocketmq-4');
    const answer = await this.call(client, RequestCode.REGISTER_BROKER, extFields, body);
    expectCode(answer, ResponseCode.SUCCESS, 'REGISTER_BROKER');
  }

  /** Refreshes a registration without changing it, the way the target's brokers do. */
  async refresh(broker: WireBroker, connectionId: number, heartbeatTimeoutMillis: number): Promise<void> {
    if (this.profile.refresh === 'REGISTER_BROKER') return this.register(broker, connectionId, heartbeatTimeoutMillis);
    const client = await this.connection(broker, connectionId);
    const answer = await this.call(client, RequestCode.BROKER_HEARTBEAT, {
      clusterName: broker.clusterName,
      brokerAddr: broker.brokerAddr,
      brokerName: broker.brokerName,
      brokerId: String(broker.brokerId),
    });
    expectCode(answer, ResponseCode.SUCCESS, 'BROKER_HEARTBEAT');
  }

  /** UNREGISTER_BROKER over the broker's connection, as a broker sends it when it shuts down. */
  async unregister(broker: WireBroker, connectionId: number): Promise<void> {
    const client = await this.connection(broker, connectionId);
    const answer = await this.call(client, RequestCode.UNREGISTER_BROKER, unregisterHeader(broker));
    expectCode(answer, ResponseCode.SUCCESS, 'UNREGISTER_BROKER');
  }

  /** Closes one of the broker's connections; false when it was not open. */
  async close(broker: WireBroker, connectionId: number): Promise<boolean> {
    const key = `${keyOf(broker)}#${connectionId}`;
    const client = this.connections.get(key);
    this.connections.delete(key);
    if (!client || client.closed) return false;
    await client.close();
    return true;
  }

  async route(topic: string): Promise<RouteAnswer> {
    const answer = await this.call(await this.readConnection(), RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
    if (answer.code !== ResponseCode.SUCCESS) return { code: answer.code, remark: answer.remark ?? null };
    return {
      code: answer.code,
      remark: answer.remark ?? null,
      route: parseBody(answer, 'GET_ROUTEINFO_BY_TOPIC') as RouteAnswer['route'],
    };
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const answer = await this.call(await this.readConnection(), RequestCode.GET_BROKER_CLUSTER_INFO);
    expectCode(answer, ResponseCode.SUCCESS, 'GET_BROKER_CLUSTER_INFO');
    const info = parseBody(answer, 'GET_BROKER_CLUSTER_INFO') as Partial<ClusterInfo>;
    return { brokerAddrTable: info.brokerAddrTable ?? {}, clusterAddrTable: info.clusterAddrTable ?? {} };
  }

  /** Sends any request on the read connection; rejects on a timeout (RemotingTimeoutError). */
  async raw(
    code: number,
    extFields: Record<string, string> | null = null,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<RemotingCommand> {
    return (await this.readConnection()).invoke(code, extFields, null, timeoutMs);
  }

  /** Every broker this session registered, with the ids it registered under (for the clean-up and its check). */
  registeredBrokers(): WireBroker[] {
    return [...this.registered.values()].map((r) => r.broker);
  }

  /**
   * Takes a broker off the target: UNREGISTER_BROKER for each id it used,
   * then its connections closed (either alone removes it on any name server;
   * both, in case one was lost). Best effort: the final check looks again.
   */
  async release(broker: WireBroker): Promise<void> {
    const entry = this.registered.get(keyOf(broker));
    for (const brokerId of entry?.ids ?? [broker.brokerId]) {
      const reader = await this.readConnection().catch(() => undefined);
      await reader
        ?.invoke(RequestCode.UNREGISTER_BROKER, unregisterHeader({ ...broker, brokerId }), null, this.requestTimeoutMs)
        .catch(() => undefined);
    }
    const prefix = `${keyOf(broker)}#`;
    for (const [key, client] of [...this.connections]) {
      if (!key.startsWith(prefix)) continue;
      this.connections.delete(key);
      await client.close().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    for (const client of this.connections.values()) await client.close().catch(() => undefined);
    this.connections.clear();
    await this.reader?.close().catch(() => undefined);
    this.reader = undefined;
  }

  private async connection(broker: WireBroker, connectionId: number): Promise<RemotingClient> {
    const key = `${keyOf(broker)}#${connectionId}`;
    const client = this.connections.get(key);
    if (client && !client.closed) return client;
    // Paths run concurrently: the first caller connects, the others wait for it (no second, leaked socket).
    let connecting = this.connecting.get(key);
    if (!connecting) {
      connecting = this.connect().then(
        (opened) => {
          this.connections.set(key, opened);
          this.connecting.delete(key);
          return opened;
        },
        (err: unknown) => {
          this.connecting.delete(key);
          throw err;
        },
      );
      this.connecting.set(key, connecting);
    }
    return connecting;
  }

  private readConnection(): Promise<RemotingClient> {
    if (this.reader && !this.reader.closed) return Promise.resolve(this.reader);
    this.readerConnecting ??= this.connect().then(
      (client) => {
        this.reader = client;
        this.readerConnecting = undefined;
        return client;
      },
      (err: unknown) => {
        this.readerConnecting = undefined;
        throw err;
      },
    );
    return this.readerConnecting;
  }

  private connect(): Promise<RemotingClient> {
    return RemotingClient.connect({
      host: this.target.host,
      port: this.target.port,
      connectTimeoutMs: this.requestTimeoutMs,
    });
  }

  private call(
    client: RemotingClient,
    code: number,
    extFields: Record<string, string> | null = null,
    body: Buffer | null = null,
  ): Promise<RemotingCommand> {
    return client.invoke(code, extFields, body, this.requestTimeoutMs);
  }
}

function keyOf(broker: WireBroker): string {
  return `${broker.clusterName}|${broker.brokerAddr}`;
}

function unregisterHeader(broker: WireBroker): Record<string, string> {
  return {
    clusterName: broker.clusterName,
    brokerAddr: broker.brokerAddr,
    brokerName: broker.brokerName,
    brokerId: String(broker.brokerId),
  };
}

/**
 * The registration of a broker no client would use: its topics have a read
 * queue and no write queue and are read-only (perm 4), so producers never
 * choose them. Besides the path's topic it carries one named after itself, as
 * every RocketMQ broker does (a 5.x name server refuses a first registration
 * with a single topic: that is what a broker's incremental registration looks
 * like). enableActingMaster is left out, as an older broker leaves it out, so
 * a slave never stands in for its master in routes (on 5.x too).
 */
export function registerRequest(
  broker: WireBroker,
  heartbeatTimeoutMillis: number,
  sendsHeartbeatTimeout: boolean,
): { extFields: Record<string, string>; body: Buffer } {
  const body = encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: Object.fromEntries(
          [broker.topic, broker.brokerName].map((name) => [name, readOnlyTopic(name)]),
        ),
        dataVersion: { timestamp: 1, counter: 1 },
      },
      filterServerList: [],
    },
    { compressed: false },
  );
  const [host, port] = [
    broker.brokerAddr.slice(0, broker.brokerAddr.lastIndexOf(':')),
    Number(broker.brokerAddr.slice(broker.brokerAddr.lastIndexOf(':') + 1)),
  ];
  const extFields: Record<string, string> = {
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    clusterName: broker.clusterName,
    haServerAddr: `${host}:${port + 1}`,
    brokerId: String(broker.brokerId),
    compressed: 'false',
    // As the Java broker computes it.
    bodyCrc32: String(crc32(body) & 0x7fffffff),
  };
  if (sendsHeartbeatTimeout) extFields.heartbeatTimeoutMillis = String(heartbeatTimeoutMillis);
  return { extFields, body };
}

function readOnlyTopic(topicName: string) {
  return {
    topicName,
    readQueueNums: 1,
    writeQueueNums: 0,
    perm: 4,
    topicFilterType: 'SINGLE_TAG' as const,
    topicSysFlag: 0,
    order: false,
  };
}

function expectCode(answer: RemotingCommand, code: number, what: string): void {
  if (answer.code !== code) {
    throw new UnexpectedAnswer(
      `${what} answered ${responseCodeName(answer.code)} (${answer.code})${answer.remark ? ` "${answer.remark}"` : ''}, expected ${responseCodeName(code)}`,
    );
  }
}

function parseBody(answer: RemotingCommand, what: string): unknown {
  const text = answer.body?.toString('utf8') ?? '';
  const parsed = parseFastjsonText(text);
  if (!parsed.ok) throw new UnexpectedAnswer(`${what} answered a body that is not JSON: ${parsed.error}`);
  return parsed.value;
}
