import { afterEach, describe, expect, it } from 'vitest';
import { RemotingServer } from '../src/remoting/server.js';
import type { RemotingCommand } from '../src/remoting/command.js';
import { RequestCode } from '../src/remoting/requestCode.js';
import { silentLogger } from '../src/logging.js';
import { startTestServer, type TestServer } from './support/harness.js';
import { registerBroker } from './support/broker.js';

/** A broker's own listening port, which the name server connects to for notifications. */
async function fakeBrokerPort(received: RemotingCommand[]): Promise<RemotingServer> {
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, logger: silentLogger() });
  server.register(RequestCode.NOTIFY_MIN_BROKER_ID_CHANGE, (request) => {
    received.push(request);
    return undefined;
  });
  await server.listen();
  return server;
}

let t: TestServer | undefined;
const brokers: RemotingServer[] = [];
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

describe('notifyMinBrokerIdChanged', () => {
  it('tells the slave, on its own listening port, when its master goes offline', async () => {
    const masterSeen: RemotingCommand[] = [];
    const slaveSeen: RemotingCommand[] = [];
    const master = await fakeBrokerPort(masterSeen);
    const slave = await fakeBrokerPort(slaveSeen);
    brokers.push(master, slave);
    const masterAddr = `127.0.0.1:${master.address()!.port}`;
    const slaveAddr = `127.0.0.1:${slave.address()!.port}`;
    t = await startTestServer({ notifyMinBrokerIdChanged: true, supportActingMaster: true });
    const client = await t.client();
    const group = { brokerName: 'broker-a', topics: { TopicTest: {}, 'broker-a': {} }, enableActingMaster: true };
    await registerBroker(client, { ...group, brokerAddr: masterAddr, brokerId: 0 });
    await registerBroker(client, { ...group, brokerAddr: slaveAddr, brokerId: 1 });
    await client.invoke(RequestCode.UNREGISTER_BROKER, {
      clusterName: 'DefaultCluster',
      brokerAddr: masterAddr,
      brokerName: 'broker-a',
      brokerId: '0',
    });
    for (let i = 0; i < 500 && !slaveSeen.some((r) => r.extFields?.offlineBrokerAddr === masterAddr); i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const offline = slaveSeen.find((r) => r.extFields?.offlineBrokerAddr === masterAddr);
    expect(offline?.extFields).toMatchObject({ brokerName: 'broker-a', minBrokerId: '1', minBrokerAddr: slaveAddr });
  });
});
