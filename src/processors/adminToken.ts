import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from '../remoting/server.js';
import { requestCodeName, ResponseCode } from '../remoting/requestCode.js';
import type { ProcessorContext } from './context.js';
import { failure } from './respond.js';

/** The ext field a remoting write request carries the admin token in. */
export const ADMIN_TOKEN_FIELD = 'adminToken';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Wraps a write request's handler: when `adminToken` is configured, the
 * request must carry it (compared in constant time over digests, so neither
 * content nor length leaks); otherwise the handler runs as in RocketMQ.
 */
export function requireAdminToken(ctx: ProcessorContext, code: number, handler: RequestHandler): RequestHandler {
  return (request, connection) => {
    const expected = ctx.config.get().adminToken;
    if (expected) {
      const given = request.extFields?.[ADMIN_TOKEN_FIELD];
      if (given === undefined || !timingSafeEqual(digest(given), digest(expected))) {
        ctx.logger.warn(
          { client: connection.remoteAddress, request: requestCodeName(code) },
          'write request refused: admin token missing or wrong',
        );
        return failure(
          request,
          ResponseCode.NO_PERMISSION,
          `${requestCodeName(code)} requires the admin token (ext field ${ADMIN_TOKEN_FIELD})`,
        );
      }
    }
    return handler(request, connection);
  };
}
