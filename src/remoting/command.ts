import { MQVersion } from './requestCode.js';

/** How a frame's header is serialized: the top byte of the frame's second word. */
export enum SerializeType {
  JSON = 0,
  ROCKETMQ = 1,
}

/** One request or response of the remoting protocol. */
export interface RemotingCommand {
  /** Request code for requests, response code for responses. */
  code: number;
  /** Sender's language name (see LanguageCode), e.g. "JAVA". */
  language: string;
  /** Sender's MQVersion ordinal. */
  version: number;
  /** Correlates a response with its request. */
  opaque: number;
  flag: number;
  remark?: string | null;
  /** Request/response header fields; the protocol carries every value as a string. */
  extFields?: Record<string, string> | null;
  serializeType: SerializeType;
  body?: Buffer | null;
}

export const RESPONSE_FLAG = 1;
export const ONEWAY_FLAG = 2;

export function isResponse(command: Pick<RemotingCommand, 'flag'>): boolean {
  return (command.flag & RESPONSE_FLAG) !== 0;
}

export function isOneway(command: Pick<RemotingCommand, 'flag'>): boolean {
  return (command.flag & ONEWAY_FLAG) !== 0;
}

export interface CreateRequestOptions {
  language?: string;
  version?: number;
  /** Clients overwrite this with a fresh value when they send. */
  opaque?: number;
  serializeType?: SerializeType;
  oneway?: boolean;
  remark?: string | null;
}

export function createRequest(
  code: number,
  extFields?: Record<string, string> | null,
  body?: Buffer | null,
  opts: CreateRequestOptions = {},
): RemotingCommand {
  return {
    code,
    language: opts.language ?? 'JAVA',
    version: opts.version ?? MQVersion.CURRENT,
    opaque: opts.opaque ?? 0,
    flag: opts.oneway ? ONEWAY_FLAG : 0,
    remark: opts.remark ?? null,
    extFields: extFields ?? null,
    serializeType: opts.serializeType ?? SerializeType.JSON,
    body: body ?? null,
  };
}

/**
 * A response to `request`: same opaque and header serialization, speaking as
 * the Java server this one replaces. Pass `extFields` (even `{}`) only when the
 * Java side would send a response header: it then appears in the JSON header.
 */
export function createResponse(
  request: RemotingCommand,
  code: number,
  remark?: string | null,
  extFields?: Record<string, string> | null,
  body?: Buffer | null,
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: MQVersion.CURRENT,
    opaque: request.opaque,
    flag: RESPONSE_FLAG,
    remark: remark ?? null,
    extFields: extFields ?? null,
    serializeType: request.serializeType,
    body: body ?? null,
  };
}
