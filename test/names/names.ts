/**
 * Legal RocketMQ names for property-based tests, always mixed with the names
 * that a plain JavaScript object already has (`__proto__`, `constructor`,
 * `toString`, ...): a name is data, and every path must treat it so.
 *
 * TopicValidator allows topic names of 1 to 127 characters from
 * `^[%|a-zA-Z0-9_-]+$`. Broker and cluster names have looser rules, so names
 * from the topic alphabet are legal for them too.
 */
import fc from 'fast-check';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import type { DataVersion, TopicConfig, TopicQueueMappingInfo } from '../../src/protocol/types.js';
import { compareText } from '../../src/util/compareText.js';
import { zlib } from '../support/zlibShim.js';

/** One seed for every property here: the runs are the same on every machine. */
export const SEED = 14;

export const TOPIC_ALPHABET = '%|_-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const TOPIC_MAX_LENGTH = 127;

/** The names the issue reported, in every generated set. */
export const CORE_PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** Every property of Object.prototype that is a legal topic name (all of them are). */
export const PROTOTYPE_NAMES: readonly string[] = Object.getOwnPropertyNames(Object.prototype).filter(isLegalTopicName);

export function isLegalTopicName(name: string): boolean {
  return name.length >= 1 && name.length <= TOPIC_MAX_LENGTH && /^[%|a-zA-Z0-9_-]+$/.test(name);
}

/**
 * One character of a topic name. The four punctuation characters are drawn as
 * often as all letters and digits together: `|` separates a broker key's
 * cluster from its address and `%` starts retry and DLQ topics, so they are
 * where hand-written parsing slips.
 */
const topicChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...TOPIC_ALPHABET.slice(0, 4)),
  fc.constantFrom(...TOPIC_ALPHABET.slice(4)),
);

/** Any legal topic name: mostly short ones from the alphabet, often a prototype name, sometimes a long one. */
export const legalName: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...PROTOTYPE_NAMES), weight: 1 },
  { arbitrary: fc.string({ unit: topicChar, minLength: 1, maxLength: 12 }), weight: 3 },
  { arbitrary: fc.string({ unit: topicChar, minLength: 1, maxLength: TOPIC_MAX_LENGTH }), weight: 1 },
);

/**
 * Distinct names, shuffled: every core prototype name (when `core`), some
 * other prototype names and `extra` more from the whole alphabet.
 */
export function nameSet(options: { core: boolean; extra: { min: number; max: number } }): fc.Arbitrary<string[]> {
  const others = PROTOTYPE_NAMES.filter((n) => !(CORE_PROTOTYPE_NAMES as readonly string[]).includes(n));
  return fc
    .tuple(
      fc.subarray(others),
      fc.uniqueArray(legalName, { minLength: options.extra.min, maxLength: options.extra.max }),
      fc.nat(),
    )
    .map(([somePrototypeNames, random, seed]) => {
      const all = [...new Set([...(options.core ? CORE_PROTOTYPE_NAMES : []), ...somePrototypeNames, ...random])];
      return shuffled(all, seed);
    });
}

/** A few distinct names with at least one prototype name among them (brokers, clusters). */
export function fewNames(min: number, max: number): fc.Arbitrary<string[]> {
  return fc
    .tuple(
      fc.subarray([...PROTOTYPE_NAMES], { minLength: 1, maxLength: max }),
      fc.uniqueArray(legalName, { minLength: max, maxLength: max }),
      fc.integer({ min, max }),
      fc.nat(),
    )
    .map(([[prototypeName, ...prototypeNames], random, count, seed]) => {
      // One prototype name for certain, the rest drawn from both kinds.
      const rest = shuffled([...new Set([...prototypeNames, ...random])], seed).filter((n) => n !== prototypeName);
      return shuffled([prototypeName!, ...rest].slice(0, count), seed + 1);
    });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Register bodies in every form the server accepts.

/**
 * - `json`: standard JSON in no particular field order, as a non-Java sender
 *   writes it (no peekable prefix: always decoded in full);
 * - `fastjson-4.9`: a 4.9.x broker's fastjson body;
 * - `fastjson-5.x`: a 5.x broker's, with a static-topic mapping whose
 *   integer-keyed map fastjson writes with bare keys (not JSON: the lenient reader);
 * - `compressed-4.9`, `compressed-5.x`: the zlib body of compressed=true.
 */
export const BODY_FORMATS = ['json', 'fastjson-4.9', 'fastjson-5.x', 'compressed-4.9', 'compressed-5.x'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

export interface BrokerPlan {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  format: BodyFormat;
  /** topic -> its queue config */
  topics: Map<string, TopicConfig>;
  /** 5.x forms: static-topic mappings, filed under this broker's name */
  mappings: Map<string, TopicQueueMappingInfo>;
  dataVersion: DataVersion;
}

export function carriesMappings(format: BodyFormat): boolean {
  return format === 'fastjson-5.x' || format === 'compressed-5.x';
}

export function topicConfigOf(topicName: string, seed: number): TopicConfig {
  return {
    topicName,
    readQueueNums: 1 + (seed % 8),
    writeQueueNums: 1 + ((seed * 3) % 8),
    perm: seed % 3 === 0 ? 4 : 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
  };
}

export function mappingOf(topic: string, brokerName: string): TopicQueueMappingInfo {
  return { topic, scope: '__global__', totalQueues: 2, bname: brokerName, epoch: 7, dirty: false, currIdMap: { 0: 1 } };
}

/** The REGISTER_BROKER body of `broker` in its format. */
export function registerBody(broker: BrokerPlan): Buffer {
  const wrapperInput = {
    topicConfigTable: broker.topics,
    dataVersion: broker.dataVersion,
    topicQueueMappingInfoMap: broker.mappings,
  };
  switch (broker.format) {
    case 'json': {
      // Object.fromEntries defines own properties: "__proto__" stays a key.
      const topicConfigTable = Object.fromEntries(broker.topics);
      return Buffer.from(
        JSON.stringify({
          topicConfigSerializeWrapper: { topicConfigTable, dataVersion: broker.dataVersion },
          filterServerList: [],
        }),
      );
    }
    case 'fastjson-4.9':
      return encodeRegisterBrokerBody(
        { topicConfigSerializeWrapper: wrapperInput, filterServerList: [] },
        { compressed: false, generation: '4.9' },
      );
    case 'fastjson-5.x':
      return encodeRegisterBrokerBody(
        { topicConfigSerializeWrapper: wrapperInput, filterServerList: [] },
        { compressed: false, generation: '5.x' },
      );
    case 'compressed-4.9':
      return encodeRegisterBrokerBody(
        { topicConfigSerializeWrapper: wrapperInput, filterServerList: [] },
        { compressed: true, generation: '4.9' },
      );
    case 'compressed-5.x':
      return encodeRegisterBrokerBody(
        { topicConfigSerializeWrapper: wrapperInput, filterServerList: [] },
        { compressed: true, generation: '5.x' },
      );
  }
}

export function isCompressed(format: BodyFormat): boolean {
  return format.startsWith('compressed');
}

/** REGISTER_BROKER's header for `broker`, with the checksum a Java broker computes. */
export function registerHeader(broker: BrokerPlan, body: Buffer): Record<string, string> {
  return {
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    haServerAddr: broker.brokerAddr.replace(/:(\d+)$/, (_, port: string) => `:${Number(port) + 1}`),
    brokerId: '0',
    compressed: String(isCompressed(broker.format)),
    bodyCrc32: String(zlib.crc32(body) & 0x7fffffff),
  };
}

// ---------------------------------------------------------------------------
// A scenario: clusters, brokers (one per body format) and the topics each serves.

export interface Scenario {
  topics: string[];
  brokers: BrokerPlan[];
}

/**
 * Five brokers, one per body format, under one to three clusters; every
 * topic is served by one or more of them and every broker serves at least two
 * topics (a first registration with one topic is refused, as in Java 5.x).
 */
export function scenario(basePort: number): fc.Arbitrary<Scenario> {
  return fc
    .record({
      topics: nameSet({ core: true, extra: { min: 0, max: 6 } }),
      brokerNames: fewNames(BODY_FORMATS.length, BODY_FORMATS.length),
      clusterNames: fewNames(1, 3),
      spread: fc.array(fc.uniqueArray(fc.nat(BODY_FORMATS.length - 1), { minLength: 1, maxLength: 3 }), {
        minLength: 20,
        maxLength: 20,
      }),
    })
    .map(({ topics, brokerNames, clusterNames, spread }) => {
      const brokers: BrokerPlan[] = brokerNames.map((brokerName, j) => ({
        clusterName: clusterNames[j % clusterNames.length]!,
        brokerName,
        brokerAddr: `127.0.0.1:${basePort + j * 10}`,
        format: BODY_FORMATS[j]!,
        topics: new Map(),
        mappings: new Map(),
        dataVersion: { counter: 1 + j, timestamp: 1_700_000_000_000 + j },
      }));
      const serve = (topic: string, j: number, seed: number) => {
        const broker = brokers[j]!;
        if (!broker.topics.has(topic)) broker.topics.set(topic, topicConfigOf(topic, seed));
      };
      topics.forEach((topic, i) => {
        for (const j of spread[i % spread.length]!) serve(topic, j, i + j);
      });
      brokers.forEach((broker, j) => {
        for (let k = 0; broker.topics.size < 2; k++) serve(topics[(j + k) % topics.length]!, j, j + k);
        if (carriesMappings(broker.format)) {
          const first = broker.topics.keys().next().value!;
          broker.mappings.set(first, mappingOf(first, broker.brokerName));
        }
      });
      return { topics, brokers };
    });
}

/** Own enumerable keys of a parsed object: what JSON says, not what a prototype adds. */
export function ownKeys(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return Object.keys(value).sort(compareText);
}

/** An own property, or undefined: never one inherited from Object.prototype. */
export function own(value: unknown, key: string): any {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

export function sorted(items: Iterable<string>): string[] {
  return [...items].sort(compareText);
}
