// @ts-check
/**
 * The gateway messages the console reads (docs/gateway.md), as JSDoc types
 * only: this module has no code.
 */

/**
 * @typedef {object} WaitTarget
 * @property {boolean} met
 * @property {number} liveBrokers
 * @property {string[]} missing what is still missing, in words
 */

/**
 * @typedef {object} WaitTimes
 * @property {number} startedAt
 * @property {number} holdingEndsAt
 * @property {number} timeoutAt
 */

/**
 * @typedef {object} Lifecycle
 * @property {string} state top-level state, e.g. `waiting`
 * @property {string} detail dotted full state, e.g. `waiting.holding`
 * @property {number} since
 * @property {string[]} tags
 * @property {boolean} live
 * @property {boolean} ready
 * @property {boolean} servingRoutes
 * @property {string} [routesRefused]
 * @property {string} [reason]
 * @property {WaitTarget} waitTarget
 * @property {'serve' | 'refuse'} waitTimeoutAction
 * @property {WaitTimes} [wait]
 * @property {string[]} degraded
 */

/**
 * @typedef {object} DataVersion
 * @property {number} counter
 * @property {number} timestamp
 * @property {number} [stateVersion]
 */

/**
 * @typedef {object} BrokerSnapshot
 * @property {string} brokerKey `cluster|address`
 * @property {string} clusterName
 * @property {string} brokerName
 * @property {string} brokerAddr
 * @property {number} brokerId
 * @property {string} state
 * @property {number} generation
 * @property {number} lastRefresh
 * @property {number} heartbeatTimeoutMillis
 * @property {DataVersion} dataVersion
 * @property {number} topicCount
 */

/**
 * @typedef {object} ServerInfo
 * @property {string} name
 * @property {string} version
 * @property {string} instanceId
 */

/**
 * @typedef {object} Hello
 * @property {'hello'} type
 * @property {number} seq
 * @property {ServerInfo} server
 * @property {{ authorized: boolean, controlOps: string }} auth
 * @property {Lifecycle} lifecycle
 * @property {BrokerSnapshot[]} brokers
 * @property {Record<string, RouteData | null>} [routes]
 */

/**
 * @typedef {object} Reset
 * @property {'reset'} type
 * @property {'gap' | 'unknownSeq' | 'otherInstance'} reason
 * @property {number} [oldestAvailable]
 * @property {number} lastSeq
 * @property {number} seq
 * @property {ServerInfo} server
 * @property {Lifecycle} lifecycle
 * @property {BrokerSnapshot[]} brokers
 * @property {Record<string, RouteData | null>} [routes]
 */

/**
 * @typedef {object} Transition
 * @property {'transition'} type
 * @property {number} seq
 * @property {number} at
 * @property {string} actorId
 * @property {'nameServer' | 'broker'} machine
 * @property {string | null} from
 * @property {string} to
 * @property {string[]} [tags]
 * @property {string} event
 * @property {Record<string, any>} [context]
 */

/**
 * @typedef {object} RouteBroker
 * @property {string} cluster
 * @property {string} brokerName
 * @property {Record<string, string>} brokerAddrs broker id -> address
 */

/**
 * @typedef {object} RouteQueue
 * @property {string} brokerName
 * @property {number} readQueueNums
 * @property {number} writeQueueNums
 * @property {number} perm
 * @property {number} topicSysFlag
 */

/**
 * @typedef {object} RouteData
 * @property {RouteBroker[]} brokerDatas
 * @property {RouteQueue[]} queueDatas
 * @property {Record<string, unknown>} [filterServerTable]
 * @property {string} [orderTopicConf]
 */

/**
 * @typedef {object} RoutePush
 * @property {'route'} type
 * @property {number} seq
 * @property {number} at
 * @property {string} topic
 * @property {string} cause
 * @property {RouteData | null} route
 */

/** @typedef {Hello | Reset | Transition | RoutePush} StreamMessage */

export {};
