import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { displayValue, SECRET_MASK, type ConfigKey, type NamesrvOptions } from './schema.js';

/** Names where a key's value came from, e.g. `flag --listenPort` or `default`. */
export type SourceOf = (key: ConfigKey) => string;

const BROKER_NAME_ENTRY = /^[^/\s]+\/[^/\s]+$/;
/** host:port, with an IPv6 host in brackets. */
const HOST_PORT_ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;

/** `scheme://host[:port]` and nothing more, as browsers send in the Origin header. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/**
 * Checks that need more than one key, or more than the type. Run once on the
 * whole effective configuration (at start-up and before a runtime update is
 * applied), so no module has to defend against a combination that cannot work.
 */
export function checkCombination(config: NamesrvOptions, sourceOf: SourceOf): string[] {
  const errors: string[] = [];
  const show = (key: ConfigKey): string => `${key} (${displayValue(key, config[key]) || '""'}, ${sourceOf(key)})`;

  if (config.enableControllerInNamesrv) {
    errors.push(
      `${show('enableControllerInNamesrv')}: xnamesrv embeds no controller; run the RocketMQ controller on its own and set this to false`,
    );
  }

  for (const entry of config.waitForBrokerNames) {
    if (!BROKER_NAME_ENTRY.test(entry)) {
      errors.push(
        `waitForBrokerNames (${sourceOf('waitForBrokerNames')}): entry ${JSON.stringify(entry)} is not cluster/brokerName`,
      );
    }
  }

  const hasWaitTarget = config.waitForBrokers > 0 || config.waitForBrokerNames.length > 0;
  if (hasWaitTarget && !config.needWaitForService) {
    const target = config.waitForBrokers > 0 ? show('waitForBrokers') : show('waitForBrokerNames');
    errors.push(
      `${target} is a wait target but ${show('needWaitForService')} means no wait: set needWaitForService=true or remove the target`,
    );
  }
  if (config.needWaitForService && config.waitTimeoutSeconds < config.waitSecondsForService) {
    errors.push(
      `${show('waitTimeoutSeconds')} must be >= ${show('waitSecondsForService')} when needWaitForService is true`,
    );
  }

  if (config.listenPort !== 0 && config.listenPort === config.httpPort) {
    errors.push(`${show('listenPort')} and ${show('httpPort')} must differ`);
  }

  for (const key of ['kvConfigPath', 'configStorePath'] as const) {
    if (config[key] === '') errors.push(`${key} (${sourceOf(key)}): must not be empty`);
  }
  if (config.kvConfigPath !== '' && resolve(config.kvConfigPath) === resolve(config.configStorePath)) {
    errors.push(
      `${show('kvConfigPath')} and ${show('configStorePath')} are the same file; each write would destroy the other`,
    );
  }
  if (config.logFile !== '') {
    // The rotating writer refuses these (they are not portable file name characters).
    if (/[<>"|?*\u0000-\u001f]/.test(config.logFile)) {
      errors.push(`${show('logFile')}: a log file path must not contain < > " | ? * or control characters`);
    }
    if (/[\\/]$/.test(config.logFile)) {
      errors.push(`${show('logFile')}: names a directory; give a file name, e.g. ${config.logFile}namesrv.log`);
    }
  }

  if (!isIP(config.bindAddress) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(config.bindAddress)) {
    errors.push(
      `bindAddress (${sourceOf('bindAddress')}): ${JSON.stringify(config.bindAddress)} is neither an IP address nor a host name`,
    );
  }

  if (config.remotingMaxBufferedBytes < config.maxFrameLength) {
    errors.push(
      `${show('remotingMaxBufferedBytes')} must be >= ${show('maxFrameLength')}: a frame of the largest accepted size could never arrive`,
    );
  }
  if (config.httpMaxConnections <= config.gatewayMaxClients) {
    errors.push(
      `${show('httpMaxConnections')} must be greater than ${show('gatewayMaxClients')}: gateway clients are HTTP connections, and probes need room beside them`,
    );
  }

  for (const entry of config.consoleNameServers) {
    if (!HOST_PORT_ENTRY.test(entry)) {
      errors.push(
        `consoleNameServers (${sourceOf('consoleNameServers')}): entry ${JSON.stringify(entry)} is not host:httpPort`,
      );
    }
  }
  // Brokers and clients split the answer on ";" and connect to each entry as
  // it stands, so a bad entry would surface far away, as connection failures.
  for (const entry of config.namesrvAddrList) {
    const port = Number(entry.slice(entry.lastIndexOf(':') + 1));
    if (!HOST_PORT_ENTRY.test(entry) || port < 1 || port > 65_535) {
      errors.push(
        `namesrvAddrList (${sourceOf('namesrvAddrList')}): entry ${JSON.stringify(entry)} is not host:listenPort (a port in 1..65535)`,
      );
    }
  }
  if (!/^[A-Za-z0-9._~-]+$/.test(config.namesrvAddrSubGroup)) {
    errors.push(
      `${show('namesrvAddrSubGroup')}: must be one URL path segment of letters, digits, ".", "_", "~" or "-" (RocketMQ's default is nsaddr)`,
    );
  }
  for (const entry of config.gatewayAllowedOrigins) {
    if (entry !== '*' && !isOrigin(entry)) {
      errors.push(
        `gatewayAllowedOrigins (${sourceOf('gatewayAllowedOrigins')}): entry ${JSON.stringify(entry)} is not an origin like http://host:port, nor *`,
      );
    }
  }

  for (const key of ['gatewayToken', 'adminToken'] as const) {
    // `-p` and GET_NAMESRV_CONFIG print secrets as ******; a token equal to the
    // mask means someone pasted that output back, and would let anyone in.
    if (config[key] === SECRET_MASK) {
      errors.push(`${key} (${sourceOf(key)}): ${SECRET_MASK} is the masked display value, not a token`);
    }
  }
  return errors;
}
