import type { RequestHandler } from '../remoting/server.js';
import { ResponseCode } from '../remoting/requestCode.js';
import type { ProcessorContext } from './context.js';
import { failure, success } from './respond.js';

/** UPDATE_NAMESRV_CONFIG: properties text; black-listed keys are refused with NO_PERMISSION. */
export function updateNamesrvConfig(ctx: ProcessorContext): RequestHandler {
  return async (request) => {
    if (!request.body || request.body.length === 0) return success(request);
    const text = request.body.toString('utf8');
    const updated = await ctx.config.update(text);
    if (!updated.ok) {
      const code = updated.blackListed ? ResponseCode.NO_PERMISSION : ResponseCode.SYSTEM_ERROR;
      return failure(request, code, updated.remark);
    }
    ctx.logger.info({ changed: updated.changed }, 'name server config updated');
    return success(request);
  };
}

/**
 * GET_NAMESRV_CONFIG: every effective key as properties text, secrets
 * masked. A port configured as 0 shows as the port bound, so tools that ask
 * (admin watch finding the gateway) get one they can connect to.
 */
export function getNamesrvConfig(ctx: ProcessorContext): RequestHandler {
  return (request) => {
    const { listenPort, httpPort } = ctx.config.get();
    const bound = ctx.boundPorts();
    const shown = {
      listenPort: listenPort === 0 ? bound.listenPort : listenPort,
      httpPort: httpPort === 0 ? bound.httpPort : httpPort,
    };
    return success(request, Buffer.from(ctx.config.toPropertiesText(shown), 'utf8'));
  };
}
