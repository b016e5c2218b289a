import { join } from 'node:path';

/**
 * Every configuration key xnamesrv knows, in one table. Keys of origin
 * 'rocketmq' keep the name, type and default of the Java NamesrvConfig or
 * NettyServerConfig field, so a namesrv.properties written for the Java name
 * server loads unchanged; those that make no sense in Node are still accepted
 * and say why in `notApplicable`. Keys of origin 'xnamesrv' are new.
 */

export type KeyOrigin = 'rocketmq' | 'xnamesrv';

interface KeyDefCommon {
  readonly description: string;
  readonly origin: KeyOrigin;
  /**
   * The Java class whose field the key sets (origin 'rocketmq' only).
   * TlsSystemConfig's keys are JVM system properties (-Dtls.server.mode=...),
   * also read from tls.config.file; see src/tls/tlsConfigFile.ts.
   */
  readonly javaClass?: 'NamesrvConfig' | 'NettyServerConfig' | 'TlsSystemConfig';
  /** UPDATE_NAMESRV_CONFIG may change it while running. */
  readonly runtimeUpdatable: boolean;
  /** Set when the key is accepted for compatibility but has no effect here. */
  readonly notApplicable?: string;
  /** Never shown in clear by `-p`, GET_NAMESRV_CONFIG or logs. */
  readonly secret?: boolean;
  /** For defaults computed at load time (home directory, dataDir, environment). */
  readonly defaultText?: string;
}

export type KeyDef = KeyDefCommon &
  (
    | { readonly type: 'boolean'; readonly default: boolean }
    | { readonly type: 'int' | 'long'; readonly default: number; readonly min?: number; readonly max?: number }
    | { readonly type: 'string'; readonly default: string }
    | {
        readonly type: 'enum';
        readonly default: string;
        readonly values: readonly string[];
        /** Any letter case is accepted and read as the listed value (Java upper-cases tls.server.need.client.auth). */
        readonly caseInsensitive?: boolean;
      }
    | { readonly type: 'list'; readonly default: readonly string[] }
  );

export const INT_MAX = 2_147_483_647;
export const SECRET_MASK = '******';
const PORT = { min: 0, max: 65_535 } as const;
const NOT_A_THREAD_POOL = 'Node serves requests on one event loop; there is no thread pool to size';

export const CONFIG_SCHEMA = {
  // ---- NamesrvConfig -------------------------------------------------------
  rocketmqHome: {
    type: 'string',
    default: '',
    defaultText: '$ROCKETMQ_HOME, else empty',
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'RocketMQ installation directory.',
    notApplicable: 'xnamesrv reads nothing from a RocketMQ installation',
  },
  kvConfigPath: {
    type: 'string',
    default: '',
    defaultText: '<dataDir>/kvConfig.json, else ~/namesrv/kvConfig.json',
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description:
      'JSON file holding the KV config table (PUT_KV_CONFIG and friends), same format as the Java name server.',
  },
  configStorePath: {
    type: 'string',
    default: '',
    defaultText: 'the -c file when given, else <dataDir>/namesrv.properties, else ~/namesrv/namesrv.properties',
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description:
      'Where UPDATE_NAMESRV_CONFIG persists the full configuration. As in Java, starting with -c points it at that file so updates survive a restart; without -c, its runtime-updatable keys are read back at the next start.',
  },
  productEnvName: {
    type: 'string',
    default: 'center',
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Environment name used by the Java cluster-test route fallback.',
    notApplicable: 'xnamesrv has no cluster-test request processor',
  },
  clusterTest: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: answer unknown topics by asking the productEnvName name servers.',
    notApplicable: 'xnamesrv has no cluster-test request processor',
  },
  orderMessageEnable: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Add the ORDER_TOPIC_CONFIG KV entry of a topic to its route (orderTopicConf).',
  },
  returnOrderTopicConfigToBroker: {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Return the ORDER_TOPIC_CONFIG namespace in REGISTER_BROKER responses.',
  },
  clientRequestThreadPoolNums: {
    type: 'int',
    default: 8,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: threads serving client route requests.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  defaultThreadPoolNums: {
    type: 'int',
    default: 16,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: threads serving broker and admin requests.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  clientRequestThreadPoolQueueCapacity: {
    type: 'int',
    default: 50_000,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: queue length in front of the client request threads.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  defaultThreadPoolQueueCapacity: {
    type: 'int',
    default: 10_000,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: queue length in front of the default request threads.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  scanNotActiveBrokerInterval: {
    type: 'long',
    default: 5_000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: milliseconds between scans for brokers whose heartbeat expired.',
    notApplicable: 'each broker registration carries its own expiry timer, so there is no periodic scan',
  },
  unRegisterBrokerQueueCapacity: {
    type: 'int',
    default: 3_000,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Java: queue length of the batch unregistration service.',
    notApplicable: 'unregistrations are applied as they arrive',
  },
  supportActingMaster: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Let a slave act as master in routes while its master is down.',
  },
  enableAllTopicList: {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER.',
  },
  enableTopicList: {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Serve the per-cluster and unit topic list requests.',
  },
  notifyMinBrokerIdChanged: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: 'Tell the brokers of a group when its smallest live broker id changes.',
  },
  enableControllerInNamesrv: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description:
      'Java: run the DLedger controller inside the name server. Only false is accepted: xnamesrv embeds no controller.',
  },
  needWaitForService: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description:
      'After start, answer route requests with "name server not ready" until brokers have had time to register (see waitSecondsForService and the wait* keys).',
  },
  waitSecondsForService: {
    type: 'int',
    default: 45,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description: 'Seconds to hold route requests after start when needWaitForService is true.',
  },
  deleteTopicWithBrokerRegistration: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: true,
    description: "Drop a broker's topics that are missing from its registration.",
  },
  configBlackList: {
    type: 'string',
    default: 'configBlackList;configStorePath;kvConfigPath',
    origin: 'rocketmq',
    javaClass: 'NamesrvConfig',
    runtimeUpdatable: false,
    description:
      'Keys, separated by ";", that UPDATE_NAMESRV_CONFIG refuses. configBlackList, configStorePath, kvConfigPath and rocketmqHome are always refused.',
  },

  // ---- NettyServerConfig ---------------------------------------------------
  bindAddress: {
    type: 'string',
    default: '0.0.0.0',
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description:
      "Address the remoting and HTTP listeners bind to. The default 0.0.0.0 (every interface) is RocketMQ's; bind to 127.0.0.1 or a private address to keep the write requests and the gateway off other networks.",
  },
  listenPort: {
    type: 'int',
    default: 9876,
    ...PORT,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Remoting (RocketMQ protocol) TCP port; 0 picks a free port.',
  },
  serverWorkerThreads: {
    type: 'int',
    default: 8,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Netty worker threads.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  serverCallbackExecutorThreads: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Netty callback executor threads.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  serverSelectorThreads: {
    type: 'int',
    default: 3,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Netty selector threads.',
    notApplicable: NOT_A_THREAD_POOL,
  },
  serverOnewaySemaphoreValue: {
    type: 'int',
    default: 256,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: concurrent oneway requests the server may send.',
    notApplicable: 'the name server sends no oneway requests of its own',
  },
  serverAsyncSemaphoreValue: {
    type: 'int',
    default: 64,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: concurrent async requests the server may send.',
    notApplicable: 'the name server sends no async requests of its own',
  },
  serverChannelMaxIdleTimeSeconds: {
    type: 'int',
    default: 120,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Close a remoting connection idle for this many seconds (0 = never).',
  },
  serverSocketSndBufSize: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: SO_SNDBUF (0 = OS default).',
    notApplicable: 'Node sockets use the OS default buffer sizes',
  },
  serverSocketRcvBufSize: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: SO_RCVBUF (0 = OS default).',
    notApplicable: 'Node sockets use the OS default buffer sizes',
  },
  writeBufferHighWaterMark: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: Netty channel write buffer high water mark.',
    notApplicable: 'Netty-specific',
  },
  writeBufferLowWaterMark: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: Netty channel write buffer low water mark.',
    notApplicable: 'Netty-specific',
  },
  serverSocketBacklog: {
    type: 'int',
    default: 1024,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Listen backlog of the remoting socket.',
  },
  serverNettyWorkerGroupEnable: {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: separate Netty worker event loop group.',
    notApplicable: 'Netty-specific',
  },
  serverPooledByteBufAllocatorEnable: {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: pooled Netty buffers.',
    notApplicable: 'Netty-specific',
  },
  enableShutdownGracefully: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: wait for Netty event loops on shutdown.',
    notApplicable: 'xnamesrv always answers in-flight requests before it stops',
  },
  shutdownWaitTimeSeconds: {
    type: 'int',
    default: 30,
    min: 0,
    max: INT_MAX,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: how long a graceful Netty shutdown may take.',
    notApplicable: 'xnamesrv always answers in-flight requests before it stops',
  },
  useEpollNativeSelector: {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'NettyServerConfig',
    runtimeUpdatable: false,
    description: 'Java: Linux epoll transport.',
    notApplicable: "Node always uses the platform's native poller",
  },

  // ---- TlsSystemConfig (JVM system properties; src/tls/) ---------------------
  'tls.server.mode': {
    type: 'enum',
    default: 'permissive',
    values: ['disabled', 'permissive', 'enforcing'],
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      'TLS on the remoting port: `disabled` (plain only; a TLS handshake is closed), `permissive` (TLS and plain on the one port, told apart by the first byte) or `enforcing` (TLS only; a plain connection is closed). Refusals are counted in xnamesrv_tls_refused_connections_total. Java reads an unknown value as permissive; here it stops the start. Not read from tls.config.file (nor by Java).',
  },
  'tls.config.file': {
    type: 'string',
    default: '/etc/rocketmq/tls.properties',
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      "Java properties file whose tls.server.* and tls.test.mode.enable entries override every other source of those keys, as in Java; re-read when the certificates are reloaded. A missing default file is skipped; a missing file that was set is an error. tls.client.* and tls.enable entries (Java clients' settings) are ignored. Empty = none (the default when embedded).",
  },
  'tls.test.mode.enable': {
    type: 'boolean',
    default: true,
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description: 'Java: serve TLS with a throwaway self-signed certificate instead of the configured files.',
    notApplicable:
      'xnamesrv makes no self-signed certificate: it always uses tls.server.certPath and tls.server.keyPath, and without them refuses TLS connections',
  },
  'tls.server.certPath': {
    type: 'string',
    default: '',
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      "PEM certificate chain of the remoting port (the server's certificate first). Reloaded when it changes; its expiry is logged and exported as xnamesrv_tls_certificate_expiry_timestamp_seconds.",
  },
  'tls.server.keyPath': {
    type: 'string',
    default: '',
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description: 'PEM private key of tls.server.certPath (PKCS#8 as Java wants it; PKCS#1 and SEC1 also load).',
  },
  'tls.server.keyPassword': {
    type: 'string',
    default: '',
    secret: true,
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      'Password of an encrypted tls.server.keyPath (`ENCRYPTED PRIVATE KEY`). Empty = the key is not encrypted.',
  },
  'tls.server.need.client.auth': {
    type: 'enum',
    default: 'none',
    values: ['none', 'optional', 'require'],
    caseInsensitive: true,
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      'Client certificates on the remoting port: `none` (not asked for), `optional` (asked for) or `require` (a TLS client without one is closed). Java reads an unknown value as none; here it stops the start.',
  },
  'tls.server.authClient': {
    type: 'boolean',
    default: false,
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      'Verify client certificates against tls.server.trustCertPath (or, when that is empty, the system CAs). false, as in Java, accepts any client certificate.',
  },
  'tls.server.trustCertPath': {
    type: 'string',
    default: '',
    origin: 'rocketmq',
    javaClass: 'TlsSystemConfig',
    runtimeUpdatable: false,
    description:
      'PEM CA certificates that client certificates must chain to when tls.server.authClient is true. Reloaded when it changes.',
  },

  // ---- xnamesrv ------------------------------------------------------------
  httpPort: {
    type: 'int',
    default: 9877,
    ...PORT,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'HTTP port for /livez, /readyz, /metrics, /machines and the /ws gateway; 0 picks a free port.',
  },
  httpTlsMode: {
    type: 'enum',
    default: 'disabled',
    values: ['disabled', 'permissive', 'enforcing'],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'HTTPS on httpPort (probes, /metrics, the console, /ws as wss://): `disabled` (plain HTTP), `permissive` (HTTPS and plain HTTP on the one port, so plain `http://` fetches such as /rocketmq/nsaddr keep working) or `enforcing` (HTTPS only; a plain connection is closed). Needs httpTlsCertPath and httpTlsKeyPath.',
  },
  httpTlsCertPath: {
    type: 'string',
    default: '',
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'PEM certificate chain of the HTTP port. Reloaded when it changes; its expiry is exported as xnamesrv_tls_certificate_expiry_timestamp_seconds.',
  },
  httpTlsKeyPath: {
    type: 'string',
    default: '',
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'PEM private key of httpTlsCertPath.',
  },
  httpTlsKeyPassword: {
    type: 'string',
    default: '',
    secret: true,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Password of an encrypted httpTlsKeyPath. Empty = the key is not encrypted.',
  },
  httpTlsNeedClientAuth: {
    type: 'enum',
    default: 'none',
    values: ['none', 'optional', 'require'],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Client certificates on the HTTP port, verified against httpTlsTrustCertPath: `none`, `optional` (a verified one stands in for the token under httpAuthRequired) or `require` (an HTTPS client without a verified one is closed).',
  },
  httpTlsTrustCertPath: {
    type: 'string',
    default: '',
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'PEM CA certificates that HTTP client certificates must chain to; needed when httpTlsNeedClientAuth is not none.',
  },
  httpAuthRequired: {
    type: 'boolean',
    default: false,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Every HTTP path but /livez, /readyz and /rocketmq/* (the address server) needs gatewayToken (`Authorization: Bearer <token>`, or Basic with the token as password, which browsers ask for) or a verified client certificate; others get 401, counted in xnamesrv_http_unauthorized_requests_total.',
  },
  tlsHandshakeTimeoutSeconds: {
    type: 'int',
    default: 10,
    min: 1,
    max: 3600,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      "Seconds a TLS handshake may take on either port before its connection is closed (Netty's SslHandler default is 10).",
  },
  dataDir: {
    type: 'string',
    default: '',
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'When set, kvConfigPath and configStorePath default to files inside it (--data-dir).',
  },
  waitForBrokers: {
    type: 'int',
    default: 0,
    min: 0,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'With needWaitForService: be ready once this many brokers are live (0 = no count target).',
  },
  waitForBrokerNames: {
    type: 'list',
    default: [],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'With needWaitForService: be ready once each listed `cluster/brokerName` has a live master. Separated by "," or ";".',
  },
  waitTimeoutSeconds: {
    type: 'int',
    default: 300,
    min: 1,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Give up waiting for the wait target after this many seconds (see waitTimeoutAction); at least waitSecondsForService.',
  },
  waitTimeoutAction: {
    type: 'enum',
    default: 'serve',
    values: ['serve', 'refuse'],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'When the wait times out: serve what is registered (reported as degraded) or keep refusing route requests.',
  },
  maxFrameLength: {
    type: 'int',
    default: 16 * 1024 * 1024,
    min: 1024,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Largest remoting frame accepted, in bytes; a bigger one closes its connection (Java: com.rocketmq.remoting.frameMaxLength).',
  },
  remotingMaxConnections: {
    type: 'int',
    default: 10_000,
    min: 1,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Remoting (TCP) connections open at once; a connection over the limit is closed as soon as it is accepted. Java has no such limit.',
  },
  remotingMaxBufferedBytes: {
    type: 'int',
    default: 256 * 1024 * 1024,
    min: 1024,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Bytes of partly received remoting frames held across all connections (a frame is buffered until its last byte arrives); a connection whose bytes would go past it is closed. At least maxFrameLength.',
  },
  maxInFlightRequestsPerConnection: {
    type: 'int',
    default: 1000,
    min: 1,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Requests one remoting connection or gateway client may have waiting for their answer (KV and config writes wait for the disk); more are answered SYSTEM_BUSY "[OVERLOAD]system busy, start flow control for a while", as RocketMQ answers when its thread pool queue is full.',
  },
  httpMaxConnections: {
    type: 'int',
    default: 2048,
    min: 2,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Connections to the HTTP port open at once (probes, metrics and gateway clients); a connection over the limit is closed as soon as it is accepted. Greater than gatewayMaxClients, so probes get through a full gateway.',
  },
  gatewayToken: {
    type: 'string',
    default: '',
    secret: true,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Bearer token for control operations on the /ws gateway (Authorization: Bearer on the upgrade, or the auth op). Reads need no token. Empty (default) = control operations are refused.',
  },
  adminToken: {
    type: 'string',
    default: '',
    secret: true,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'When set, remoting write requests (UPDATE_NAMESRV_CONFIG, PUT/DELETE_KV_CONFIG, DELETE_TOPIC_IN_NAMESRV, REGISTER_TOPIC_IN_NAMESRV, WIPE/ADD_WRITE_PERM_OF_BROKER) must carry it in the ext field adminToken, else NO_PERMISSION. Empty (default) = RocketMQ behaviour, no check.',
  },
  logLevel: {
    type: 'enum',
    default: 'info',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    origin: 'xnamesrv',
    runtimeUpdatable: true,
    description: 'Log level (pino levels).',
  },
  logFormat: {
    type: 'enum',
    default: 'auto',
    values: ['auto', 'json', 'pretty'],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'How log lines on stderr look: `json` (one JSON object per line, for log shippers and `jq`), `pretty` (human-readable lines) or `auto` (pretty when stderr is a terminal, else JSON). The log file is always JSON.',
  },
  logFile: {
    type: 'string',
    default: '',
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Also write the logs, as JSON lines, to numbered files named after this path, rotated by size: `logs/namesrv.log` writes `logs/namesrv.1.log`, then `logs/namesrv.2.log`, ..., and `logs/current.log` links to the one in use; a restart appends to the newest. Empty = stderr only.',
  },
  logFileMaxSize: {
    type: 'long',
    default: 100 * 1024 * 1024,
    min: 1024,
    max: Number.MAX_SAFE_INTEGER,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Bytes after which the log file in use is closed and the next numbered file started.',
  },
  logFileCount: {
    type: 'int',
    default: 10,
    min: 1,
    max: 10_000,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      "Rotated log files kept besides the one in use; older ones are deleted (RocketMQ's namesrv.log keeps 10 of 100 MB).",
  },
  replayBufferSize: {
    type: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Recent lifecycle and broker transitions kept for gateway clients that connect or reconnect.',
  },
  gatewayMaxMessageBytes: {
    type: 'int',
    default: 1024 * 1024,
    min: 1024,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Largest WebSocket message the gateway accepts from a client, in bytes.',
  },
  gatewayMaxBufferedBytes: {
    type: 'int',
    default: 8 * 1024 * 1024,
    min: 1024,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Bytes queued to one gateway client before it is disconnected as too slow.',
  },
  gatewayPingIntervalSeconds: {
    type: 'int',
    default: 30,
    min: 0,
    max: 86_400,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Seconds between WebSocket pings to each gateway client; a client silent until the next ping is disconnected (0 = no pings).',
  },
  gatewayMaxClients: {
    type: 'int',
    default: 1000,
    min: 1,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Gateway clients connected at once; further upgrade requests are answered 503.',
  },
  gatewayMaxSubscriptionsPerClient: {
    type: 'int',
    default: 1000,
    min: 1,
    max: INT_MAX,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Cluster, broker and topic filters one gateway client may hold.',
  },
  gatewayAllowedOrigins: {
    type: 'list',
    default: [],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Browser origins (e.g. `http://ns1:9877`) whose pages may open the /ws gateway, besides this server\'s own; `*` allows any. Separated by "," or ";". Clients that send no Origin header (tools, brokers, other servers) are not affected. Lets a console served by another name server connect here.',
  },
  consoleEnabled: {
    type: 'boolean',
    default: true,
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description: 'Serve the browser console at / on httpPort (docs/console.md).',
  },
  consoleNameServers: {
    type: 'list',
    default: [],
    origin: 'xnamesrv',
    runtimeUpdatable: false,
    description:
      'Other name servers the console shows side by side with this one, as `host:httpPort`, separated by "," or ";". Their gateways must allow this server\'s origin (gatewayAllowedOrigins).',
  },
  namesrvAddrList: {
    type: 'list',
    default: [],
    origin: 'xnamesrv',
    runtimeUpdatable: true,
    description:
      'The name servers (`host:listenPort`, separated by ";" or ",") that `GET /rocketmq/<namesrvAddrSubGroup>` on httpPort answers as `host1:9876;host2:9876`, the address-server lookup RocketMQ brokers and clients make when started with `-Drocketmq.namesrv.domain=<host>:<httpPort>` (docs/deployment.md). Empty = that path answers 404.',
  },
  namesrvAddrSubGroup: {
    type: 'string',
    default: 'nsaddr',
    origin: 'xnamesrv',
    runtimeUpdatable: true,
    description:
      'The path segment under `/rocketmq/` that answers namesrvAddrList, as clients set it with `-Drocketmq.namesrv.domain.subgroup` (brokers: rmqAddressServerSubGroup). The unit form `<subGroup>-<unit>` answers the same list; any other subgroup answers 404.',
  },
} as const satisfies Record<string, KeyDef>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

type ValueOfDef<D> = D extends { type: 'boolean' }
  ? boolean
  : D extends { type: 'int' | 'long' }
    ? number
    : D extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : D extends { type: 'list' }
        ? readonly string[]
        : string;

/** The effective configuration: every key, typed, immutable. */
export type NamesrvOptions = { readonly [K in ConfigKey]: ValueOfDef<(typeof CONFIG_SCHEMA)[K]> };
export type ConfigValue = NamesrvOptions[ConfigKey];

export type KeyInfo = KeyDef & { readonly name: ConfigKey };

/** The table as a list, in declaration order (NamesrvConfig, NettyServerConfig, xnamesrv). */
export const CONFIG_KEYS: readonly KeyInfo[] = Object.entries(CONFIG_SCHEMA).map(([name, def]) => ({
  ...(def as KeyDef),
  name: name as ConfigKey,
}));

export function isConfigKey(name: string): name is ConfigKey {
  return Object.prototype.hasOwnProperty.call(CONFIG_SCHEMA, name);
}

export function keyDef(key: ConfigKey): KeyDef {
  return CONFIG_SCHEMA[key];
}

/** The key spelled `name` but for letter case (listenport -> listenPort). */
export function caseInsensitiveKey(name: string): ConfigKey | undefined {
  const lower = name.toLowerCase();
  return CONFIG_KEYS.find((info) => info.name.toLowerCase() === lower)?.name;
}

/** ` (did you mean listenPort?)` for a near miss such as `listen-port` or `LISTEN_PORT`; empty otherwise. */
export function keySuggestion(name: string): string {
  const guess = caseInsensitiveKey(name.replace(/[-_]/g, ''));
  return guess ? ` (did you mean ${guess}?)` : '';
}

/** listenPort -> LISTEN_PORT, tls.server.certPath -> TLS_SERVER_CERT_PATH; the environment variable is XNAMESRV_ + this. */
export function upperSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase();
}

export const ENV_PREFIX = 'XNAMESRV_';

export function envNameOf(key: ConfigKey): string {
  return ENV_PREFIX + upperSnake(key);
}

/** Keys UPDATE_NAMESRV_CONFIG refuses whatever configBlackList says (as the Java name server does). */
export const ALWAYS_BLACK_LISTED: readonly ConfigKey[] = [
  'configBlackList',
  'configStorePath',
  'kvConfigPath',
  'rocketmqHome',
];

export interface DefaultsContext {
  homeDir: string;
  env: Record<string, string | undefined>;
  /** The effective dataDir ('' when unset). */
  dataDir: string;
}

/** Defaults with the load-time ones (paths, ROCKETMQ_HOME) filled in. */
export function defaultsFor(ctx: DefaultsContext): NamesrvOptions {
  const out: Record<string, unknown> = {};
  for (const info of CONFIG_KEYS) out[info.name] = info.default;
  out.rocketmqHome = ctx.env.ROCKETMQ_HOME ?? '';
  out.kvConfigPath = ctx.dataDir ? join(ctx.dataDir, 'kvConfig.json') : join(ctx.homeDir, 'namesrv', 'kvConfig.json');
  out.configStorePath = ctx.dataDir
    ? join(ctx.dataDir, 'namesrv.properties')
    : join(ctx.homeDir, 'namesrv', 'namesrv.properties');
  return out as NamesrvOptions;
}

/**
 * Reads one raw text value the way the key's type says. Strings are trimmed,
 * as Java's properties2Object does; numbers must be plain decimal like
 * Integer.parseInt; booleans must say true or false (Java would quietly read
 * anything else as false, which hides typos).
 */
export function parseConfigValue(
  key: ConfigKey,
  raw: string,
): { ok: true; value: ConfigValue } | { ok: false; message: string } {
  const def = keyDef(key);
  const text = raw.trim();
  const shown = JSON.stringify(raw);
  switch (def.type) {
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true') return { ok: true, value: true };
      if (lower === 'false') return { ok: true, value: false };
      return { ok: false, message: `expected true or false, got ${shown}` };
    }
    case 'int':
    case 'long': {
      const min = def.min ?? (def.type === 'int' ? -INT_MAX - 1 : Number.MIN_SAFE_INTEGER);
      const max = def.max ?? (def.type === 'int' ? INT_MAX : Number.MAX_SAFE_INTEGER);
      const what = key.endsWith('Port') ? 'a port number' : 'an integer';
      if (!/^[+-]?\d+$/.test(text)) return { ok: false, message: `expected ${what} (${min}..${max}), got ${shown}` };
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        return { ok: false, message: `expected ${what} in ${min}..${max}, got ${shown}` };
      }
      return { ok: true, value };
    }
    case 'enum': {
      const value = def.caseInsensitive ? def.values.find((v) => v.toLowerCase() === text.toLowerCase()) : text;
      if (value === undefined || !def.values.includes(value)) {
        return { ok: false, message: `expected one of ${def.values.join(', ')}, got ${shown}` };
      }
      return { ok: true, value: value as ConfigValue };
    }
    case 'list':
      return {
        ok: true,
        value: text
          .split(/[,;]/)
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      };
    case 'string':
      return { ok: true, value: text };
  }
}

/** The text form of a value, as it goes into properties output. */
export function formatConfigValue(value: ConfigValue): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** What may be shown of a value: secrets that are set read as ******. */
export function displayValue(key: ConfigKey, value: ConfigValue): string {
  const def = keyDef(key);
  if (def.secret && value !== '') return SECRET_MASK;
  return formatConfigValue(value);
}

/** key -> text pairs, sorted by key, for properties output. */
export function configEntries(config: NamesrvOptions, options: { maskSecrets: boolean }): Array<[string, string]> {
  return (Object.keys(CONFIG_SCHEMA) as ConfigKey[])
    .sort()
    .map((key) => [key, options.maskSecrets ? displayValue(key, config[key]) : formatConfigValue(config[key])]);
}

/** A deep-frozen copy, so no holder of the live configuration can change it behind the others' backs. */
export function freezeOptions(config: NamesrvOptions): NamesrvOptions {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config))
    copy[key] = Array.isArray(value) ? Object.freeze([...(value as unknown[])]) : value;
  return Object.freeze(copy) as NamesrvOptions;
}
