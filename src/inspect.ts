import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { summarizeContext } from './observe/contextSummary.js';

export interface LiveInspector {
  inspect(event: InspectionEvent): void;
  stop(): void;
}

/**
 * Streams every actor's events and snapshots to a Stately inspector over a
 * WebSocket (`--inspect ws://...`). Contexts hold maps and actor refs, so
 * each is reduced to the same summary the gateway shows.
 */
export function createLiveInspector(url: string): LiveInspector {
  const inspector = createWebSocketInspector({
    url,
    sanitizeContext: (context) => {
      // Promise actors (start-up, shutdown) have no context.
      if (!context || typeof context !== 'object') return context;
      const machine = 'liveBrokers' in context ? 'nameServer' : 'brokerKey' in context ? 'broker' : '';
      return summarizeContext(machine, context);
    },
  });
  return {
    inspect: (event) => inspector.inspect.next?.(event as never),
    stop: () => inspector.stop(),
  };
}
