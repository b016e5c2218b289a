import { wsMessageText } from '../../src/util/wsText.js';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { gatewayServerPerTest, refusedUpgrade, startGatewayServer, urlOf } from './support.js';

const { start } = gatewayServerPerTest();

/** Opens the gateway as a browser page from `origin` would; resolves with the hello or the refusal status. */
function openFrom(
  port: number,
  origin: string | undefined,
  host?: string,
): Promise<{ status: number; hello?: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (host !== undefined) headers.host = host;
  const ws = new WebSocket(urlOf(port), { headers, ...(origin === undefined ? {} : { origin }) });
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      ws.terminate();
      resolve({ status: 101, hello: JSON.parse(wsMessageText(data)) });
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

describe('gateway origins', () => {
  it('accepts clients with no Origin and pages from its own origin, refuses other pages with 403', async () => {
    const t = await start();
    expect((await openFrom(t.port, undefined)).status).toBe(101);
    expect((await openFrom(t.port, `http://127.0.0.1:${t.port}`)).status).toBe(101);
    expect((await openFrom(t.port, `http://localhost:${t.port}`, `localhost:${t.port}`)).status).toBe(101);
    const refused = await refusedUpgrade(t.port, { headers: { origin: 'http://evil.example' } });
    expect(refused).toEqual({
      status: 403,
      body: 'origin http://evil.example is not allowed (gatewayAllowedOrigins)\n',
    });
    // Same host, other port: another origin.
    expect((await openFrom(t.port, `http://127.0.0.1:${t.port + 1}`)).status).toBe(403);
    expect(t.server.gateway.stats().rejectedUpgrades).toBe(2);
  });

  it('accepts the origins listed in gatewayAllowedOrigins, or any with *', async () => {
    const listed = await start({ gatewayAllowedOrigins: ['http://ns1.example:9877'] });
    expect((await openFrom(listed.port, 'http://ns1.example:9877')).status).toBe(101);
    expect((await openFrom(listed.port, 'http://ns2.example:9877')).status).toBe(403);
    const any = await startGatewayServer({ gatewayAllowedOrigins: ['*'] });
    try {
      expect((await openFrom(any.port, 'http://ns2.example:9877')).status).toBe(101);
    } finally {
      await any.stop();
    }
  });
});
