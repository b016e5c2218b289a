import { errorMessage } from '../util/errorMessage.js';
/**
 * The gateway's wire vocabulary: close codes, stream names, the error
 * message, and the first-line validation of what a client sends. Nothing
 * here touches a socket; docs/gateway.md describes every message.
 */

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
} as const;

export const STREAM_NAMES = ['lifecycle', 'brokers', 'routes'] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

export function isStreamName(value: string): value is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(value);
}

export type RequestId = string | number;

export type ErrorCode =
  | 'invalid_json'
  | 'bad_request'
  | 'unknown_op'
  | 'unauthorized'
  | 'forbidden'
  | 'limit_exceeded'
  | 'remoting_error'
  | 'internal_error';

export interface ErrorMessage {
  type: 'error';
  id?: RequestId;
  op?: string;
  code: ErrorCode;
  message: string;
  /** For remoting_error: the processor's response code, as TCP clients would see it. */
  remotingCode?: number;
  remotingCodeName?: string;
}

export interface ResponseMessage {
  type: 'response';
  /** null for the resume a `?lastSeq=` on the URL asked for. */
  id: RequestId | null;
  op: string;
  result: unknown;
}

/** A client message that parsed: its op, its id if any, and all its fields. */
export interface ClientRequest {
  op: string;
  id?: RequestId;
  fields: Readonly<Record<string, unknown>>;
}

/** A request that cannot be served; becomes an error message carrying the request's id. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { remotingCode?: number; remotingCodeName?: string; closeWith?: number } = {},
  ) {
    super(message);
  }
}

export type ParsedClientMessage =
  { ok: true; request: ClientRequest } | { ok: false; error: Omit<ErrorMessage, 'type'> };

export function parseClientMessage(text: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      error: { code: 'invalid_json', message: `message is not valid JSON: ${errorMessage(err)}` },
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: { code: 'bad_request', message: 'a message must be a JSON object with an "op" field' } };
  }
  const fields = value as Record<string, unknown>;
  const rawId = fields.id;
  const idIsValid =
    rawId === undefined || typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId));
  // An id of the wrong type is not echoed: the client could not match it anyway.
  const id = idIsValid ? rawId : undefined;
  const op = fields.op;
  if (typeof op !== 'string' || op === '') {
    return { ok: false, error: withId(id, { code: 'bad_request', message: 'field "op" is required (string)' }) };
  }
  if (!idIsValid)
    return { ok: false, error: { op, code: 'bad_request', message: 'field "id" must be a string or a number' } };
  return { ok: true, request: withId(id, { op, fields }) };
}

function withId<T extends object>(id: RequestId | undefined, value: T): T & { id?: RequestId } {
  return id === undefined ? value : { id, ...value };
}

// ---------------------------------------------------------------------------
// Field validation: a missing or mistyped field is reported before anything runs.

type FieldKind = 'string' | 'integer' | 'boolean' | 'object' | 'strings';
export type FieldSpec = Readonly<Record<string, FieldKind | `${FieldKind}?`>>;

type KindValue<K> = K extends 'string'
  ? string
  : K extends 'integer'
    ? number
    : K extends 'boolean'
      ? boolean
      : K extends 'strings'
        ? string[]
        : Record<string, unknown>;

export type FieldsOf<S extends FieldSpec> = {
  [K in keyof S as S[K] extends `${string}?` ? never : K]: KindValue<S[K]>;
} & {
  [K in keyof S as S[K] extends `${string}?` ? K : never]?: KindValue<S[K] extends `${infer B}?` ? B : never>;
};

const KIND_WORDS: Record<FieldKind, string> = {
  string: 'a string',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'a JSON object',
  strings: 'an array of non-empty strings',
};

/** The fields `spec` names, typed; throws bad_request naming the first bad one. */
export function readFields<S extends FieldSpec>(fields: ClientRequest['fields'], spec: S): FieldsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, rawKind] of Object.entries(spec)) {
    const optional = rawKind.endsWith('?');
    const kind = (optional ? rawKind.slice(0, -1) : rawKind) as FieldKind;
    const value = Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : undefined;
    if (value === undefined || value === null) {
      if (!optional) throw new RequestError('bad_request', `field "${name}" is required (${KIND_WORDS[kind]})`);
      continue;
    }
    if (!hasKind(value, kind)) throw new RequestError('bad_request', `field "${name}" must be ${KIND_WORDS[kind]}`);
    out[name] = value;
  }
  return out as FieldsOf<S>;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'strings':
      return Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '');
  }
}
