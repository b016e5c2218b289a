import type { InspectionEvent } from 'xstate';
import type { Logger } from './logging.js';
import { InspectorSocket, type InspectorSocketOptions } from './inspect/inspectorSocket.js';
import { toInspectorMessage } from './inspect/message.js';
import { summarizeContext } from './observe/contextSummary.js';

export interface LiveInspector {
  inspect(event: InspectionEvent): void;
  stop(): void;
}

export interface LiveInspectorOptions extends Omit<InspectorSocketOptions, 'logger'> {
  /** Where an unreachable inspector is reported (once). */
  logger: Logger;
}

/** Inspection events taken between two flushes; a burst beyond this loses its oldest. */
const MAX_PENDING = 1000;

/**
 * Streams every actor's events and snapshots to a Stately inspector over a
 * WebSocket (`--inspect ws://...`). The actor system only ever pays for an
 * array push: messages are built and sent on the next turn, and a failure
 * there costs that one message, never the server.
 */
export function createLiveInspector(url: string, options: LiveInspectorOptions): LiveInspector {
  const { logger } = options;
  const socket = new InspectorSocket(url, options);
  let pending: InspectionEvent[] = [];
  let flushing: NodeJS.Immediate | undefined;
  let stopped = false;

  const flush = () => {
    flushing = undefined;
    const batch = pending;
    pending = [];
    for (const event of batch) {
      try {
        const message = toInspectorMessage(event, summarizeAnyContext);
        if (message) socket.send(JSON.stringify(message));
      } catch (err) {
        logger.debug({ err, inspectionEvent: event.type }, 'inspection event not sent');
      }
    }
  };

  return {
    inspect(event) {
      if (stopped) return;
      pending.push(event);
      if (pending.length > MAX_PENDING) pending.shift();
      flushing ??= setImmediate(flush);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (flushing) clearImmediate(flushing);
      flush();
      socket.stop();
    },
  };
}

/** Contexts hold maps and actor refs: each is reduced to the summary the gateway shows. */
function summarizeAnyContext(context: unknown): unknown {
  // Promise actors (start-up, shutdown) have no context.
  if (!context || typeof context !== 'object') return context;
  const machine = 'liveBrokers' in context ? 'nameServer' : 'brokerKey' in context ? 'broker' : '';
  return summarizeContext(machine, context);
}
