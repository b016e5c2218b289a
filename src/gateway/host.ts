import type { NameServer } from '../nameServer.js';

/** What the gateway uses of the name server it serves. */
export type GatewayHost = Pick<
  NameServer,
  | 'config'
  | 'routes'
  | 'transitions'
  | 'clock'
  | 'logger'
  | 'actor'
  | 'lifecycle'
  | 'brokerSnapshots'
  | 'invokeProcessor'
  | 'allocateLocalConnectionId'
  | 'connectionClosed'
  | 'limits'
>;
