import type { RequestHandler } from '../remoting/server.js';
import { ResponseCode } from '../remoting/requestCode.js';
import type { ProcessorContext } from './context.js';
import { readHeader } from './headers.js';
import { failure, jsonBody, success, systemError } from './respond.js';

/** PUT_KV_CONFIG: acknowledged only once the value is durably stored. */
export function putKvConfig(ctx: ProcessorContext): RequestHandler {
  return async (request) => {
    const read = readHeader(request, { namespace: 'string', key: 'string', value: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const { namespace, key, value } = read.header;
    const stored = await ctx.kv.put(namespace, key, value);
    if (!stored.ok) return systemError(request, `KV config not stored: ${stored.error}`);
    return success(request);
  };
}

/** GET_KV_CONFIG: the value travels in the response header. */
export function getKvConfig(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { namespace: 'string', key: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const { namespace, key } = read.header;
    const value = ctx.kv.get(namespace, key);
    if (value === undefined) {
      return failure(request, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace} Key: ${key}`);
    }
    return success(request, undefined, { value });
  };
}

export function deleteKvConfig(ctx: ProcessorContext): RequestHandler {
  return async (request) => {
    const read = readHeader(request, { namespace: 'string', key: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const deleted = await ctx.kv.delete(read.header.namespace, read.header.key);
    if (!deleted.ok) return systemError(request, `KV config not deleted: ${deleted.error}`);
    return success(request);
  };
}

/** GET_KVLIST_BY_NAMESPACE: a KVTable body, `{"table":{...}}`. */
export function getKvListByNamespace(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const read = readHeader(request, { namespace: 'string' });
    if (!read.ok) return systemError(request, read.remark);
    const table = ctx.kv.getKVListByNamespace(read.header.namespace);
    if (!table)
      return failure(request, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${read.header.namespace}`);
    return success(request, jsonBody({ table }));
  };
}
