import { createRequire } from 'node:module';

/**
 * ali-ons (node_modules/ali-ons, a Node.js RocketMQ client by others), loaded
 * through require: it is CommonJS without type declarations. Only the parts
 * the interop tests use are typed here.
 */
const require = createRequire(import.meta.url);

export interface AliOnsRouteData {
  brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string>; cluster?: string }>;
  queueDatas: Array<{
    brokerName: string;
    readQueueNums: number;
    writeQueueNums: number;
    perm: number;
    topicSysFlag?: number;
    topicSynFlag?: number;
  }>;
  filterServerTable?: Record<string, unknown>;
  orderTopicConf?: string;
}

export interface AliOnsCommand {
  code: number;
  opaque: number;
  version: number;
  language: string;
  extFields: Record<string, string>;
  body: Buffer | null | undefined;
  remark?: string;
}

export interface AliOnsMessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export interface AliOnsClientApi {
  ready(): Promise<void>;
  close(): Promise<void>;
  getTopicRouteInfoFromNameServer(topic: string, timeoutMillis?: number): Promise<AliOnsRouteData>;
  getDefaultTopicRouteInfoFromNameServer(topic: string, timeoutMillis?: number): Promise<AliOnsRouteData>;
  invokeForNameSrvAtLeastOnce(command: AliOnsCommand, timeoutMillis?: number): Promise<AliOnsCommand>;
}

export interface AliOnsClient extends AliOnsClientApi {
  registerProducer(group: string, producer: unknown): void;
  registerConsumer(group: string, consumer: unknown): void;
  updateTopicRouteInfoFromNameServer(topic: string): Promise<void>;
  findBrokerAddressInPublish(brokerName: string): string | undefined;
  findBrokerAddressInSubscribe(
    brokerName: string,
    brokerId: number,
    onlyThisBroker: boolean,
  ): { brokerAddr: string; slave: boolean } | null;
  _producerTable: Map<string, unknown>;
  _consumerTable: Map<string, unknown>;
}

type Ctor<T> = new (options: Record<string, unknown>) => T;

export const MQClientAPI: Ctor<AliOnsClientApi> = require('ali-ons/lib/mq_client_api');
const MQClient: new (clientConfig: unknown) => AliOnsClient = require('ali-ons/lib/mq_client');
const ClientConfig: Ctor<unknown> = require('ali-ons/lib/client_config');
export const RemotingCommand: {
  prototype: object;
  createRequestCommand(code: number, header: Record<string, unknown>): AliOnsCommand;
} = require('ali-ons/lib/protocol/command/remoting_command');
export const RequestCode: Record<string, number> = require('ali-ons/lib/protocol/request_code');
/** The lenient parser ali-ons parses route bodies with (Crockford's json2, eval-based). */
export const JSON2: { parse(text: string): any } = require('JSON2');

export interface AliOnsLog {
  errors: unknown[];
  warnings: unknown[];
}

/**
 * Options for an offline client: the name server address given directly
 * (nameSrv), so the httpclient it insists on is never used (this one throws),
 * test access keys (ali-ons then signs each request: Signature, AccessKey and
 * OnsChannel header fields), and a logger that keeps what it is told.
 */
export function offlineOptions(nameSrv: string, log: AliOnsLog): Record<string, unknown> {
  return {
    nameSrv,
    httpclient: {
      request() {
        throw new Error('ali-ons tried HTTP (name server address lookup); the test gives it nameSrv and no network');
      },
    },
    accessKey: 'test-access-key',
    secretKey: 'test-secret-key',
    responseTimeout: 3_000,
    logger: {
      info() {},
      debug() {},
      warn: (...args: unknown[]) => log.warnings.push(args),
      error: (...args: unknown[]) => log.errors.push(args),
    },
  };
}

/**
 * MQClient, ali-ons's client instance, with its start-up reduced to what the
 * name-server API needs: the stock init() also heartbeats every broker in its
 * tables and starts endless polling timers, and the brokers here are only
 * addresses in registrations.
 */
export function createOfflineMQClient(nameSrv: string, log: AliOnsLog): AliOnsClient {
  const api = MQClientAPI as unknown as { prototype: { init(this: unknown): Promise<void> } };
  class OfflineMQClient extends (MQClient as unknown as new (config: unknown) => object) {
    async init(): Promise<void> {
      await api.prototype.init.call(this);
    }
  }
  return new OfflineMQClient(
    new ClientConfig({ ...offlineOptions(nameSrv, log), instanceName: `xnamesrv-interop-${process.pid}` }),
  ) as unknown as AliOnsClient;
}
