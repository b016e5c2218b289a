/** Actor names remembered for the lines; broker actors come and go, so old ones are forgotten. */
const MAX_NAMES = 10_000;

/**
 * One readable line per inspection message, e.g.
 *   `x:0 nameServer: snapshot ready (after xstate.done.actor.0.nameServer.starting)`
 *   `x:0 nameServer: event STOP`
 * Event and snapshot messages carry only the session id, so the name comes
 * from that actor's announcement.
 */
export function createSummaryLines(): (message: { type: string; [key: string]: unknown }) => string | undefined {
  const names = new Map<string, string>();
  return (message) => {
    const sessionId = typeof message.sessionId === 'string' ? message.sessionId : '?';
    if (message.type === '@xstate.actor' && typeof message.name === 'string') {
      names.delete(sessionId);
      names.set(sessionId, message.name);
      if (names.size > MAX_NAMES) names.delete(names.keys().next().value!);
    }
    const who =
      names.has(sessionId) && names.get(sessionId) !== sessionId ? `${sessionId} ${names.get(sessionId)}` : sessionId;
    switch (message.type) {
      case '@xstate.actor':
        return `${who}: actor in ${stateOf(message.snapshot)}`;
      case '@xstate.event': {
        const from = typeof message.sourceId === 'string' ? ` from ${message.sourceId}` : '';
        return `${who}: event ${eventTypeOf(message.event)}${from}`;
      }
      case '@xstate.snapshot':
        return `${who}: snapshot ${stateOf(message.snapshot)} (after ${eventTypeOf(message.event)})`;
      default:
        return undefined;
    }
  };
}

function eventTypeOf(event: unknown): string {
  const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type !== '' ? type : '(none)';
}

/** The state value as dotted paths (`stopping.serving`); the status when not active; promise actors have only that. */
function stateOf(snapshot: unknown): string {
  const s =
    typeof snapshot === 'object' && snapshot !== null ? (snapshot as { value?: unknown; status?: unknown }) : {};
  const value = s.value === undefined ? undefined : statePaths(s.value).join(', ');
  const status = typeof s.status === 'string' && s.status !== 'active' ? s.status : undefined;
  if (value && status) return `${value} [${status}]`;
  return value || status || 'active';
}

function statePaths(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [String(value)];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const below = statePaths(child);
    if (below.length === 0) paths.push(key);
    else for (const rest of below) paths.push(`${key}.${rest}`);
  }
  return paths;
}
