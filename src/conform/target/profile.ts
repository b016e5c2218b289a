import { parseProperties } from '../../config/properties.js';
import type { RemotingCommand } from '../../remoting/command.js';
import { RequestCode, ResponseCode } from '../../remoting/requestCode.js';

/**
 * What kind of name server answers, and therefore how a path drives it and
 * how long its clock takes. Read from the wire only: the `version` every
 * response header carries (the server's MQVersion ordinal) and the keys
 * GET_NAMESRV_CONFIG lists. `--flavor` overrides the guess.
 */
export type TargetKind = 'xnamesrv' | 'rocketmq-4' | 'rocketmq-5';

export const TARGET_KINDS: readonly TargetKind[] = ['xnamesrv', 'rocketmq-4', 'rocketmq-5'];

export interface TargetProfile {
  kind: TargetKind;
  /** Why conform thinks so, for the report. */
  detectedFrom: string;
  /** The MQVersion ordinal in the target's answers, and its name (`4.9.8`). */
  version?: { ordinal: number; name: string };
  /**
   * How a broker refreshes its registration without changing it: RocketMQ 5
   * brokers (and xnamesrv) send BROKER_HEARTBEAT; a 4.9 name server has no
   * such request code, its brokers re-register every 30 s.
   */
  refresh: 'BROKER_HEARTBEAT' | 'REGISTER_BROKER';
  expiry: {
    /** 5.x and xnamesrv expire a broker after the heartbeatTimeoutMillis it registered with; 4.9.x after a fixed 120 s. */
    honoursHeartbeatTimeout: boolean;
    fixedMs?: number;
    /**
     * How late after the deadline a removal may still be on time: Java scans
     * for expired brokers every 5 s (scanNotActiveBrokerInterval), xnamesrv's
     * broker timers fire at the deadline.
     */
    scanSlackMs: number;
  };
  /** The target's configuration as GET_NAMESRV_CONFIG reported it (empty when it did not answer). */
  config: ReadonlyMap<string, string>;
}

/** MQVersion ordinals: V4_0_0_SNAPSHOT, then a SNAPSHOT and a release for every x.y.z up to 5.9.9. */
const V4_0_0_SNAPSHOT = 212;
export const V5_0_0_SNAPSHOT = 412;
const JAVA_SCAN_INTERVAL_MS = 5_000;
const JAVA_4_EXPIRY_MS = 120_000;

export function versionName(ordinal: number): string {
  if (ordinal < V4_0_0_SNAPSHOT || ordinal >= V4_0_0_SNAPSHOT + 400) return `ordinal ${ordinal}`;
  const offset = ordinal - V4_0_0_SNAPSHOT;
  const major = 4 + Math.floor(offset / 200);
  const index = Math.floor((offset % 200) / 2);
  return `${major}.${Math.floor(index / 10)}.${index % 10}${offset % 2 === 0 ? '-SNAPSHOT' : ''}`;
}

export function profileOf(
  kind: TargetKind,
  detectedFrom: string,
  versionOrdinal: number | undefined,
  config: ReadonlyMap<string, string>,
): TargetProfile {
  const version =
    versionOrdinal === undefined ? undefined : { ordinal: versionOrdinal, name: versionName(versionOrdinal) };
  switch (kind) {
    case 'xnamesrv':
      return {
        kind,
        detectedFrom,
        version,
        config,
        refresh: 'BROKER_HEARTBEAT',
        expiry: { honoursHeartbeatTimeout: true, scanSlackMs: 0 },
      };
    case 'rocketmq-5':
      return {
        kind,
        detectedFrom,
        version,
        config,
        refresh: 'BROKER_HEARTBEAT',
        expiry: { honoursHeartbeatTimeout: true, scanSlackMs: JAVA_SCAN_INTERVAL_MS },
      };
    case 'rocketmq-4':
      return {
        kind,
        detectedFrom,
        version,
        config,
        refresh: 'REGISTER_BROKER',
        expiry: { honoursHeartbeatTimeout: false, fixedMs: JAVA_4_EXPIRY_MS, scanSlackMs: JAVA_SCAN_INTERVAL_MS },
      };
  }
}

/** A key only xnamesrv's configuration has (its wait-timeout policy). */
const XNAMESRV_ONLY_KEY = 'waitTimeoutAction';

/**
 * Asks the target for its configuration (read-only) and infers its kind.
 * Throws when the target does not answer at all.
 */
export async function detectProfile(
  ask: (code: number) => Promise<RemotingCommand>,
  forced: TargetKind | undefined,
): Promise<TargetProfile> {
  let versionOrdinal: number | undefined;
  let config = new Map<string, string>();
  try {
    const answer = await ask(RequestCode.GET_NAMESRV_CONFIG);
    versionOrdinal = answer.version;
    if (answer.code === ResponseCode.SUCCESS && answer.body) {
      const parsed = parseProperties(answer.body.toString('utf8'));
      if (parsed.ok) config = parsed.values;
    }
  } catch {
    // Some name servers restrict it; any answer to a plain read tells the version.
    const answer = await ask(RequestCode.GET_BROKER_CLUSTER_INFO);
    versionOrdinal = answer.version;
  }
  if (forced) return profileOf(forced, '--flavor', versionOrdinal, config);
  if (config.has(XNAMESRV_ONLY_KEY))
    return profileOf(
      'xnamesrv',
      `GET_NAMESRV_CONFIG lists ${XNAMESRV_ONLY_KEY}, an xnamesrv key`,
      versionOrdinal,
      config,
    );
  const ordinal = versionOrdinal ?? 0;
  const said = `its answers carry version ${ordinal} (${versionName(ordinal)})`;
  return ordinal >= V5_0_0_SNAPSHOT
    ? profileOf('rocketmq-5', said, versionOrdinal, config)
    : profileOf('rocketmq-4', said, versionOrdinal, config);
}

/** The expiry the target applies to a broker that registered with `heartbeatTimeoutMillis`. */
export function expiryMsOf(profile: TargetProfile, heartbeatTimeoutMillis: number): number {
  return profile.expiry.honoursHeartbeatTimeout
    ? heartbeatTimeoutMillis
    : (profile.expiry.fixedMs ?? heartbeatTimeoutMillis);
}
