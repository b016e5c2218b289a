import { createResponse } from '../remoting/command.js';
import { ResponseCode } from '../remoting/requestCode.js';
import type { RequestHandler } from '../remoting/server.js';
import type { LimitEvents } from '../observe/limits.js';
import { peerOf } from '../observe/limits.js';

/** What NettyRemotingAbstract answers when its executor rejects a request. */
export const OVERLOAD_REMARK = '[OVERLOAD]system busy, start flow control for a while';

/**
 * Bounds the requests one connection may have waiting for their answer
 * (maxInFlightRequestsPerConnection). Synchronous handlers answer before the
 * next request is read, so only asynchronous ones (KV and config writes,
 * which wait for the disk) are ever in flight; a peer that pipelines more of
 * them than the limit gets SYSTEM_BUSY for the excess instead of an unbounded
 * queue in this process. Gateway clients go through the same handlers with
 * their own connection ids, so the bound applies to them too.
 */
export class InFlightLimiter {
  private readonly inFlight = new Map<number, number>();

  constructor(
    private readonly max: number,
    private readonly limits: LimitEvents,
  ) {}

  /** Requests of this connection currently waiting for their answer. */
  of(connectionId: number): number {
    return this.inFlight.get(connectionId) ?? 0;
  }

  /** Requests of every connection waiting for their answer. */
  total(): number {
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    return sum;
  }

  wrap(handler: RequestHandler): RequestHandler {
    return (request, connection) => {
      // Nearly always empty: only asynchronous handlers ever hold a slot.
      const held = this.inFlight.size === 0 ? 0 : (this.inFlight.get(connection.id) ?? 0);
      if (held >= this.max) {
        this.limits.hit({
          limit: 'maxInFlightRequestsPerConnection',
          offender: `connection ${connection.id} (${peerOf(connection.remoteAddress)})`,
          value: this.max,
          action: 'request answered SYSTEM_BUSY',
          detail: { connectionId: connection.id, client: connection.remoteAddress, code: request.code },
        });
        return createResponse(
          request,
          ResponseCode.SYSTEM_BUSY,
          `${OVERLOAD_REMARK}: ${held} requests of this connection are waiting for their answer (maxInFlightRequestsPerConnection=${this.max})`,
        );
      }
      const result = handler(request, connection);
      if (result === undefined || typeof (result as Promise<unknown>).then !== 'function') return result;
      this.inFlight.set(connection.id, held + 1);
      const release = () => {
        const now = (this.inFlight.get(connection.id) ?? 1) - 1;
        if (now <= 0) this.inFlight.delete(connection.id);
        else this.inFlight.set(connection.id, now);
      };
      return (result as Promise<ReturnType<RequestHandler>>).finally(release) as ReturnType<RequestHandler>;
    };
  }
}
