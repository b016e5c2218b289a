import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpEvidence } from '../../src/conform/run/httpEvidence.js';
import { startNameServer, type StartedNameServer } from '../../src/index.js';

/** --http: what a target's probe and gateway say is believed only when they answer clearly. */
describe('extra evidence from the HTTP port', () => {
  let waiting: StartedNameServer;
  beforeAll(async () => {
    waiting = await startNameServer({ needWaitForService: true, waitSecondsForService: 600, waitTimeoutSeconds: 600 });
  });
  afterAll(async () => {
    await waiting?.stop();
  });

  it("reads xnamesrv's /readyz and its gateway's lifecycle", async () => {
    const evidence = httpEvidence(`http://127.0.0.1:${waiting.httpPort}`);
    try {
      expect(await evidence.readiness()).toBe(false);
      expect(await evidence.lifecycle()).toEqual({ detail: 'waiting.holding', servingRoutes: false });
      // Asked again over the same connection.
      expect(await evidence.lifecycle()).toEqual({ detail: 'waiting.holding', servingRoutes: false });
    } finally {
      evidence.close();
    }
  });

  it('says nothing when the port is some other HTTP server, or nothing at all', async () => {
    const other = createServer((_req, res) => res.writeHead(404).end('no'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as { port: number }).port;
    const evidence = httpEvidence(`http://127.0.0.1:${port}`);
    try {
      expect(await evidence.readiness()).toBeUndefined();
      expect(await evidence.lifecycle()).toBeUndefined();
    } finally {
      evidence.close();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    const nobody = httpEvidence(`http://127.0.0.1:${port}`);
    try {
      expect(await nobody.readiness()).toBeUndefined();
      expect(await nobody.lifecycle()).toBeUndefined();
    } finally {
      nobody.close();
    }
  });
});
