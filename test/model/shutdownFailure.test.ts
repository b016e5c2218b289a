import { refuses } from '../support/net.js';
import { describe, expect, it } from 'vitest';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { registerBroker } from '../support/broker.js';
import { startTestServer } from '../support/harness.js';

/**
 * Regression test. Found by the model-based suite (the lifecycle chart's
 * `stopping --xstate.error.actor.0.nameServer.stopping--> failed` transition,
 * executed with a shutdown hook that throws): NameServer.shutDown used to run
 * the hooks before closing the remoting and HTTP listeners with no
 * try/finally, so one failing hook left the server `failed` (a final state:
 * nothing would ever close them) with both ports bound and still accepting
 * REGISTER_BROKER; the CLI would set exitCode 1 but never exit. Fixed in
 * 723b8a8 ("Shutdown releases ports and flushes KV even when a shutdown step
 * fails") while this suite was being written.
 */
describe('a name server whose shutdown fails', () => {
  it('still releases its remoting and HTTP ports', async () => {
    const t = await startTestServer();
    const { server } = t;
    const remotingPort = server.remotingPort;
    const httpPort = server.httpPort;
    try {
      server.onShutdown(() => {
        throw new Error('a component failed to shut down');
      });
      await server.close('test');
      expect(server.lifecycle()).toMatchObject({ state: 'failed', reason: 'a component failed to shut down' });
      const stillOpen = { remoting: !(await refuses(remotingPort)), http: !(await refuses(httpPort)) };
      if (stillOpen.remoting) {
        // What a broker sees meanwhile: a failed name server that still takes registrations.
        const client = await t.client();
        const answer = await registerBroker(client, {
          brokerName: 'late',
          brokerAddr: '127.0.0.1:40911',
          topics: { T: {}, late: {} },
        });
        expect.soft(answer.code, 'REGISTER_BROKER accepted by a failed name server').not.toBe(ResponseCode.SUCCESS);
        expect.soft((await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).code).toBe(ResponseCode.SUCCESS);
      }
      expect(stillOpen, 'ports still accepting connections after the failed shutdown').toEqual({
        remoting: false,
        http: false,
      });
    } finally {
      await server.remoting.close();
      await server.http.close();
      await t.stop();
    }
  });
});
