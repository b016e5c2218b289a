import type { IncomingMessage } from 'node:http';
import { readBearer, type TokenVerifier } from './auth.js';
import { isStreamName, STREAM_NAMES, type StreamName } from './protocol.js';
import type { ResumePoint, SessionOpening } from './session.js';
import type { SubscriptionChange } from './subscription.js';

export type UpgradeDecision =
  | { ok: true; opening: SessionOpening }
  | {
      ok: false;
      status: number;
      message: string;
      headers?: Record<string, string>;
      /** Set when a configured limit refused the upgrade (counted and logged as such). */
      limit?: 'gatewayMaxSubscriptionsPerClient';
    };

/**
 * Reads what a client settles on the upgrade request itself: its token
 * (`Authorization: Bearer`), and in the query its subscription
 * (`streams`, `topics`, `clusters`, `brokers`: comma-separated or repeated)
 * and where to resume (`lastSeq`, `instanceId`).
 */
export function readUpgradeRequest(
  request: IncomingMessage,
  tokens: TokenVerifier,
  maxSubscriptions: number,
): UpgradeDecision {
  const authorized = readAuthorization(request.headers.authorization, tokens);
  if (!authorized.ok) return authorized;

  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  const list = (name: string) => [
    ...new Set(
      query
        .getAll(name)
        .flatMap((value) => value.split(','))
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    ),
  ];

  const opening: SessionOpening = { remoteAddress: remoteAddressOf(request), authorized: authorized.authorized };
  if (query.has('streams')) {
    const streams = list('streams');
    const unknown = streams.find((stream) => !isStreamName(stream));
    if (unknown !== undefined) return badRequest(`unknown stream "${unknown}" (streams: ${STREAM_NAMES.join(', ')})`);
    opening.streams = streams as StreamName[];
  }
  const filters: SubscriptionChange = {
    streams: [],
    clusters: list('clusters'),
    brokers: list('brokers'),
    topics: list('topics'),
  };
  const filterCount = filters.clusters.length + filters.brokers.length + filters.topics.length;
  if (filterCount > maxSubscriptions) {
    return {
      ok: false,
      status: 400,
      message: `at most ${maxSubscriptions} cluster, broker and topic filters per client (asked for ${filterCount})`,
      limit: 'gatewayMaxSubscriptionsPerClient',
    };
  }
  if (filterCount > 0) opening.filters = filters;

  const lastSeq = query.get('lastSeq');
  if (lastSeq !== null) {
    if (!/^\d+$/.test(lastSeq) || !Number.isSafeInteger(Number(lastSeq)))
      return badRequest('lastSeq must be a non-negative integer');
    const resume: ResumePoint = { lastSeq: Number(lastSeq) };
    const instanceId = query.get('instanceId');
    if (instanceId !== null) resume.instanceId = instanceId;
    opening.resume = resume;
  }
  return { ok: true, opening };
}

function readAuthorization(
  header: string | undefined,
  tokens: TokenVerifier,
):
  { ok: true; authorized: boolean } | { ok: false; status: number; message: string; headers?: Record<string, string> } {
  const bearer = readBearer(header);
  const challenge = { 'www-authenticate': 'Bearer realm="xnamesrv gateway"' };
  if (bearer.kind === 'absent') return { ok: true, authorized: false };
  if (bearer.kind === 'malformed')
    return { ok: false, status: 401, message: 'Authorization must be "Bearer <token>"', headers: challenge };
  // Without a configured token nothing can match; reads still work and hello says control ops are disabled.
  if (!tokens.configured) return { ok: true, authorized: false };
  if (!tokens.verify(bearer.token))
    return { ok: false, status: 401, message: 'wrong gateway token', headers: challenge };
  return { ok: true, authorized: true };
}

function badRequest(message: string): UpgradeDecision {
  return { ok: false, status: 400, message };
}

function remoteAddressOf(request: IncomingMessage): string {
  const { remoteAddress, remotePort } = request.socket;
  return remoteAddress === undefined ? 'unknown' : `${remoteAddress}:${remotePort ?? 0}`;
}
