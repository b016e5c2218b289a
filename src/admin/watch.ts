import { wsMessageText } from '../util/wsText.js';
import { WebSocket } from 'ws';
import type { HostPort } from './address.js';
import type { OptionSpecs } from './argv.js';
import { parseCount } from './argv.js';
import type { CommandContext } from './commands.js';
import { timeText } from './format.js';
import { stopSignal, ToolError } from './io.js';
import { chooseGateway, explainGatewayFailure, GATEWAY_ENV, gatewayUrl, type GatewayChoice } from './gateway.js';
import { describeTransportError } from './nameServers.js';
import { DEFAULT_HTTP_PORT } from './portProbe.js';

/**
 * `admin watch`: follows the gateway's stream (docs/gateway.md) and prints
 * one line per message: lifecycle and broker transitions (time, actor,
 * from -> to, cause) and route changes of the topics asked for. `--json`
 * prints every message as it arrived. When the connection drops after it was
 * established, watch reconnects and resumes after the last sequence number
 * it saw (the gateway replays what was missed, or resets with a snapshot).
 */

export const WATCH_OPTIONS: OptionSpecs = {
  gateway: {
    type: 'string',
    value: '<ws://host:port/ws>',
    description: `gateway URL (default $${GATEWAY_ENV}, else ws://<host>:<httpPort>/ws with the httpPort the first reachable -n name server reports, else port ${DEFAULT_HTTP_PORT})`,
  },
  token: { type: 'string', value: '<token>', description: 'gateway token (Authorization: Bearer); reading needs none' },
  topic: {
    type: 'string',
    short: 't',
    multiple: true,
    value: '<topic>',
    description: 'also print route changes of this topic',
  },
  cluster: {
    type: 'string',
    multiple: true,
    value: '<cluster>',
    description: 'only broker transitions of this cluster',
  },
  broker: {
    type: 'string',
    multiple: true,
    value: '<name|addr>',
    description: 'only broker transitions of this broker name or address',
  },
  streams: {
    type: 'string',
    value: '<list>',
    description: 'streams to receive, comma-separated: lifecycle,brokers,routes (default lifecycle,brokers)',
  },
  changes: {
    type: 'boolean',
    description: 'only state changes: hide refreshes (registered -> registered on every registration or heartbeat)',
  },
  count: { type: 'string', value: '<n>', description: 'exit after n messages (the first is the hello snapshot)' },
};

/** A transition that re-enters the state it left: a broker's refresh. */
function isRefresh(m: Message): boolean {
  return m.type === 'transition' && m.from !== null && m.from !== undefined && m.from === m.to;
}

const RECONNECT_DELAYS_MS = [500, 1000, 2000, 5000];

type Message = Record<string, unknown> & { type?: unknown };

function text(value: unknown): string {
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : `${value as number | boolean}`;
}

function brokerLabel(context: Record<string, unknown>): string {
  const id = context.brokerId === undefined ? '' : `/${text(context.brokerId)}`;
  return `broker ${text(context.clusterName)}/${text(context.brokerName)}${id} ${text(context.brokerAddr)}`.trim();
}

function contextExtras(machine: string, context: Record<string, unknown>): string {
  const skip =
    machine === 'broker' ? new Set(['clusterName', 'brokerName', 'brokerId', 'brokerAddr']) : new Set<string>();
  const parts = Object.entries(context)
    .filter(([k, v]) => !skip.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : text(v)}`);
  return parts.length > 0 ? `  ${parts.join(' ')}` : '';
}

function routeSummary(route: unknown): string {
  if (route === null || typeof route !== 'object') return 'no route';
  const r = route as {
    brokerDatas?: Array<{ brokerName?: string; brokerAddrs?: Record<string, string> }>;
    queueDatas?: Array<{ brokerName?: string; readQueueNums?: number; writeQueueNums?: number; perm?: number }>;
  };
  const queues = new Map((r.queueDatas ?? []).map((q) => [q.brokerName, q]));
  const brokers = [...(r.brokerDatas ?? [])].sort((a, b) => text(a.brokerName).localeCompare(text(b.brokerName)));
  if (brokers.length === 0) return 'no brokers';
  return brokers
    .map((b) => {
      const ids = Object.keys(b.brokerAddrs ?? {})
        .sort((x, y) => Number(x) - Number(y))
        .join(',');
      const q = queues.get(b.brokerName);
      return `${text(b.brokerName)}[${ids}]${q ? ` r${q.readQueueNums}/w${q.writeQueueNums}/perm${q.perm}` : ''}`;
    })
    .join(' ');
}

/**
 * The server's own words for its lifecycle: state, then why routes are
 * refused or what is degraded, as the name server's chart decided them
 * (older servers without those fields: what they still miss).
 */
function snapshotSummary(m: Message): string {
  const lifecycle = (m.lifecycle ?? {}) as {
    state?: string;
    detail?: string;
    waitTarget?: { missing?: string[] };
    routesRefused?: string;
    degraded?: string[];
  };
  const brokers = Array.isArray(m.brokers) ? m.brokers.length : 0;
  const missing = lifecycle.waitTarget?.missing ?? [];
  const detail = lifecycle.detail && lifecycle.detail !== lifecycle.state ? ` (${lifecycle.detail})` : '';
  let why = '';
  if (typeof lifecycle.routesRefused === 'string') why = `, routes refused: ${lifecycle.routesRefused}`;
  else if (Array.isArray(lifecycle.degraded) && lifecycle.degraded.length > 0)
    why = `, degraded: ${lifecycle.degraded.join('; ')}`;
  else if (missing.length > 0) why = `, waiting for ${missing.join(', ')}`;
  return `state ${text(lifecycle.state)}${detail}, ${brokers} live broker(s)${why}`;
}

function snapshotBrokers(m: Message): string[] {
  if (!Array.isArray(m.brokers)) return [];
  return (m.brokers as Array<Record<string, unknown>>).map(
    (b) => `  ${brokerLabel(b)}  ${text(b.state)}  generation=${text(b.generation)} topics=${text(b.topicCount)}`,
  );
}

/** One message as the lines a person reads; '' for messages not worth a line. */
export function formatGatewayMessage(m: Message): string {
  const time = timeText(m.at);
  switch (m.type) {
    case 'hello': {
      const server = (m.server ?? {}) as { name?: string; version?: string; instanceId?: string };
      const lines = [
        `${timeText((m.lifecycle as { since?: unknown } | undefined)?.since)}  connected to ${text(server.name)} ${text(server.version)}, ${snapshotSummary(m)}`,
        ...snapshotBrokers(m),
      ];
      return lines.join('\n') + '\n';
    }
    case 'reset':
      return [`${time}  reset (${text(m.reason)}): ${snapshotSummary(m)}`, ...snapshotBrokers(m)].join('\n') + '\n';
    case 'transition': {
      const machine = text(m.machine);
      const context = (m.context ?? {}) as Record<string, unknown>;
      const actor = machine === 'broker' ? brokerLabel(context) : machine || text(m.actorId);
      // The name server's tags say what the new state means (ready, servingRoutes, degraded).
      const tags = machine === 'nameServer' && Array.isArray(m.tags) ? `  [${m.tags.join(',')}]` : '';
      return `${time}  ${actor}  ${m.from === null || m.from === undefined ? '(new)' : text(m.from)} -> ${text(m.to)}  (${text(m.event)})${tags}${contextExtras(machine, context)}\n`;
    }
    case 'route':
      return `${time}  route ${text(m.topic)}  (${text(m.cause)})  ${routeSummary(m.route)}\n`;
    case 'error':
      return `${time}  gateway error ${text(m.code)}: ${text(m.message)}\n`;
    case 'response':
      // Answers to ops this tool sends (resume on reconnect) are not news.
      return '';
    default:
      return `${time}  ${text(m.type) || 'message'}  ${JSON.stringify(m)}\n`;
  }
}

/** ws://<host of the first name server>:9877/ws: the gateway of a name server on default ports. */
export function defaultGatewayUrl(addrs: readonly HostPort[]): string {
  return gatewayUrl(addrs[0]!.host, DEFAULT_HTTP_PORT);
}

interface WatchState {
  /** Resume point: the last stream sequence number accounted for. */
  lastSeq?: number;
  instanceId?: string;
  received: number;
  /** Per topic, the seq of the newest route shown: an older one (replayed after a resume) is stale. */
  routeSeq: Map<string, number>;
}

export async function runWatch(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  let limit: number | undefined;
  if (v.count !== undefined) {
    const n = parseCount(v.count as string, '--count', 1, Number.MAX_SAFE_INTEGER);
    if (typeof n === 'string') throw new ToolError(n, 2);
    limit = n;
  }
  const named = v.gateway !== undefined ? '--gateway' : GATEWAY_ENV;
  const flagged = (v.gateway as string | undefined) ?? ctx.env[GATEWAY_ENV]?.trim();
  if (flagged) checkGatewayUrl(flagged, named);
  const choice = await chooseGateway(ctx);
  const base = checkGatewayUrl(choice.url, named);
  const topics = (v.topic as string[] | undefined) ?? [];
  for (const [name, param] of [
    ['topic', 'topics'],
    ['cluster', 'clusters'],
    ['broker', 'brokers'],
  ] as const) {
    for (const item of (v[name] as string[] | undefined) ?? []) base.searchParams.append(param, item);
  }
  if (v.streams !== undefined) base.searchParams.set('streams', v.streams as string);
  else if (topics.length > 0) base.searchParams.set('streams', 'lifecycle,brokers,routes');
  const headers: Record<string, string> = {};
  if (v.token !== undefined) headers.authorization = `Bearer ${v.token as string}`;

  const stop = stopSignal(ctx.io);
  const state: WatchState = { received: 0, routeSeq: new Map() };
  try {
    let attempt = 0;
    for (;;) {
      const url = new URL(base);
      if (state.lastSeq !== undefined) {
        url.searchParams.set('lastSeq', String(state.lastSeq));
        if (state.instanceId) url.searchParams.set('instanceId', state.instanceId);
      }
      const outcome = await followOnce(url, headers, ctx, state, limit, stop.signal);
      if (outcome.kind === 'done') return 0;
      // Once it has worked, a 503 (shutting down, too many clients) is worth waiting out.
      const retryable = outcome.kind === 'refused' && outcome.status === 503 && state.lastSeq !== undefined;
      if (outcome.kind === 'refused' && !retryable) {
        throw new ToolError(
          `gateway ${base.origin}${base.pathname} refused the connection: ${outcome.message}${outcome.status === 404 ? gatewayHint(choice) : ''}`,
          2,
        );
      }
      if (outcome.kind === 'unreachable' && state.lastSeq === undefined) {
        const remoting = await explainGatewayFailure(base, ctx.timeoutMs);
        throw new ToolError(
          `cannot reach the gateway at ${base.origin}${base.pathname} (${outcome.message})${remoting ? `: ${remoting}` : gatewayHint(choice)}`,
          2,
        );
      }
      // Lost after it worked: say so once, then keep trying quietly.
      if (attempt === 0)
        ctx.io.stderr.write(`xnamesrv admin watch: gateway connection lost (${outcome.message}); reconnecting\n`);
      const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!;
      attempt = outcome.kind === 'closed' && outcome.hadMessages ? 0 : attempt + 1;
      if (await aborted(stop.signal, delay)) return 0;
    }
  } finally {
    stop.dispose();
  }
}

function checkGatewayUrl(raw: string, named: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ToolError(`${named}: ${JSON.stringify(raw)} is not a URL (expected ws://host:port/ws)`, 2);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new ToolError(`${named}: expected a ws:// or wss:// URL, got ${JSON.stringify(raw)}`, 2);
  return url;
}

/** How the URL was chosen and how to choose another, after a gateway failure. */
function gatewayHint(choice: GatewayChoice): string {
  const fix = `name the gateway with --gateway ws://host:httpPort/ws or ${GATEWAY_ENV}`;
  switch (choice.source) {
    case 'flag':
      return '';
    case 'env':
      return `; the URL is ${choice.how} (--gateway overrides it)`;
    case 'discovered':
      return `; that is ${choice.how}; ${fix}`;
    case 'default':
      return `; tried ${choice.how}; ${fix}`;
  }
}

/**
 * Moves the resume point. A snapshot (hello on a first connection, reset)
 * stands for everything up to its seq; on a resumed connection the hello
 * comes before the replay, so only the replayed messages move it.
 */
function track(m: Message, state: WatchState, resuming: boolean): void {
  const seq = typeof m.seq === 'number' ? m.seq : undefined;
  if (m.type === 'hello' || m.type === 'reset') {
    const id = (m.server as { instanceId?: unknown } | undefined)?.instanceId;
    if (typeof id === 'string') state.instanceId = id;
    if (seq !== undefined && (m.type === 'reset' || !resuming)) {
      state.lastSeq = seq;
      state.routeSeq.clear();
    }
    return;
  }
  if (m.type === 'response' && m.op === 'resume') {
    const result = m.result as { seq?: unknown } | undefined;
    if (typeof result?.seq === 'number') state.lastSeq = Math.max(state.lastSeq ?? 0, result.seq);
    return;
  }
  if (seq !== undefined) state.lastSeq = Math.max(state.lastSeq ?? 0, seq);
}

type FollowOutcome =
  | { kind: 'done' }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'closed'; message: string; hadMessages: boolean };

/** True when the signal aborted within `ms`. */
function aborted(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function followOnce(
  url: URL,
  headers: Record<string, string>,
  ctx: CommandContext,
  state: WatchState,
  limit: number | undefined,
  signal: AbortSignal,
): Promise<FollowOutcome> {
  return new Promise((resolve) => {
    let opened = false;
    let messages = 0;
    let settled = false;
    const finish = (outcome: FollowOutcome) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const ws = new WebSocket(url, { headers, handshakeTimeout: ctx.timeoutMs });
    const onAbort = () => {
      ws.close(1000, 'watch stopped');
      finish({ kind: 'done' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1000) body += chunk;
      });
      res.on('end', () => {
        let reason = body.trim();
        try {
          const parsed = JSON.parse(reason) as { message?: unknown; error?: unknown };
          reason = text(parsed.message ?? parsed.error ?? reason);
        } catch {
          // plain text body
        }
        const hint = res.statusCode === 404 ? ' (no gateway at this URL: is it an xnamesrv HTTP port?)' : '';
        finish({
          kind: 'refused',
          status: res.statusCode ?? 0,
          message: `HTTP ${res.statusCode}${reason ? `: ${reason}` : ''}${hint}`,
        });
        ws.terminate();
      });
    });
    ws.on('open', () => {
      opened = true;
    });
    ws.on('message', (data, isBinary) => {
      if (settled) return;
      const raw = isBinary ? '' : wsMessageText(data);
      let message: Message;
      try {
        message = JSON.parse(raw) as Message;
      } catch {
        ctx.io.stderr.write(`xnamesrv admin watch: ignoring a message that is not JSON\n`);
        return;
      }
      messages++;
      track(message, state, url.searchParams.has('lastSeq'));
      if (message.type === 'route' && typeof message.topic === 'string' && typeof message.seq === 'number') {
        const shown = state.routeSeq.get(message.topic);
        if (shown !== undefined && message.seq <= shown) return;
        state.routeSeq.set(message.topic, message.seq);
      }
      if (message.type === 'response' || (ctx.values.changes === true && isRefresh(message))) {
        if (ctx.json && message.type === 'response') ctx.io.stdout.write(raw + '\n');
        return;
      }
      if (ctx.json) ctx.io.stdout.write(raw + '\n');
      else ctx.io.stdout.write(formatGatewayMessage(message));
      state.received++;
      if (limit !== undefined && state.received >= limit) {
        ws.close(1000, 'watch done');
        finish({ kind: 'done' });
      }
    });
    ws.on('error', (err) => {
      if (!opened) finish({ kind: 'unreachable', message: describeTransportError(err) });
    });
    ws.on('close', (code, reason) => {
      const why = reason.toString() || (code === 1006 ? 'connection dropped' : `close code ${code}`);
      finish(
        opened ? { kind: 'closed', message: why, hadMessages: messages > 0 } : { kind: 'unreachable', message: why },
      );
    });
  });
}
