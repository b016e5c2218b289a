import type { RemotingCommand } from '../remoting/command.js';

/**
 * Typed reading of a request's extFields. RocketMQ sends every header field as
 * a string; a required field that is missing or malformed is an error naming
 * the field, reported before the request changes anything.
 */
export type FieldType = 'string' | 'int' | 'long' | 'boolean';
export type FieldSpec = Record<string, FieldType | `${FieldType}?`>;

type FieldValue<T extends string> = T extends 'string' | 'string?'
  ? string
  : T extends 'int' | 'int?' | 'long' | 'long?'
    ? number
    : boolean;

export type HeaderOf<S extends FieldSpec> = {
  [K in keyof S as S[K] extends `${string}?` ? never : K]: FieldValue<S[K]>;
} & {
  [K in keyof S as S[K] extends `${string}?` ? K : never]?: FieldValue<S[K]>;
};

export type HeaderResult<S extends FieldSpec> = { ok: true; header: HeaderOf<S> } | { ok: false; remark: string };

const INTEGER = /^[-+]?\d+$/;

export function readHeader<S extends FieldSpec>(request: RemotingCommand, spec: S): HeaderResult<S> {
  const ext = request.extFields ?? {};
  const header: Record<string, unknown> = {};
  for (const [name, rawType] of Object.entries(spec)) {
    const optional = rawType.endsWith('?');
    const type = (optional ? rawType.slice(0, -1) : rawType) as FieldType;
    const raw = Object.prototype.hasOwnProperty.call(ext, name) ? ext[name] : undefined;
    if (raw === undefined || raw === null) {
      // RocketMQ's own wording for a missing @CFNotNull field.
      if (!optional) return { ok: false, remark: `the custom field <${name}> is null` };
      continue;
    }
    switch (type) {
      case 'string':
        header[name] = raw;
        break;
      case 'int':
      case 'long': {
        const trimmed = raw.trim();
        const value = Number(trimmed);
        const limit = type === 'int' ? 2 ** 31 : Number.MAX_SAFE_INTEGER;
        if (!INTEGER.test(trimmed) || !Number.isSafeInteger(value) || value >= limit || value < -limit) {
          return { ok: false, remark: `the custom field <${name}> is not a valid ${type}: ${JSON.stringify(raw)}` };
        }
        header[name] = value;
        break;
      }
      case 'boolean': {
        // Java's Boolean.parseBoolean: anything but "true" (any case) is false.
        header[name] = raw.trim().toLowerCase() === 'true';
        break;
      }
    }
  }
  return { ok: true, header: header as HeaderOf<S> };
}
