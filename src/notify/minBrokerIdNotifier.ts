import type { Logger } from 'pino';
import { RemotingClient } from '../remoting/client.js';
import { RequestCode } from '../remoting/requestCode.js';
import type { MinBrokerIdChange } from '../route/routeTable.js';
import { errorMessage } from '../util/errorMessage.js';

/**
 * notifyMinBrokerIdChanged: when the smallest broker id of a broker name
 * changes (a master goes away, or comes back), RocketMQ's name server tells
 * the members with a oneway NOTIFY_MIN_BROKER_ID_CHANGE sent to each broker's
 * own listening address, so slaves can start or stop acting as master.
 * Connections are opened on demand and kept per address; failures are logged
 * and dropped, as the Java side fires and forgets.
 */
export class MinBrokerIdNotifier {
  private readonly clients = new Map<string, Promise<RemotingClient | undefined>>();
  private closed = false;

  constructor(private readonly options: { logger: Logger; connectTimeoutMs?: number }) {}

  notify(change: MinBrokerIdChange): void {
    if (this.closed) return;
    const extFields: Record<string, string> = {
      minBrokerId: String(change.minBrokerId),
      brokerName: change.brokerName,
      minBrokerAddr: change.minBrokerAddr,
    };
    if (change.offlineBrokerAddr !== undefined) extFields.offlineBrokerAddr = change.offlineBrokerAddr;
    if (change.haBrokerAddr !== undefined) extFields.haBrokerAddr = change.haBrokerAddr;
    this.options.logger.info(
      {
        brokerName: change.brokerName,
        minBrokerId: change.minBrokerId,
        notify: change.notifyAddrs,
        offline: change.offlineBrokerAddr,
      },
      'min broker id changed',
    );
    for (const address of change.notifyAddrs) void this.send(address, extFields);
  }

  async close(): Promise<void> {
    this.closed = true;
    const connecting = [...this.clients.values()];
    this.clients.clear();
    const clients = await Promise.all(connecting);
    await Promise.all(clients.map((client) => (client ? client.close() : Promise.resolve())));
  }

  private async send(address: string, extFields: Record<string, string>): Promise<void> {
    const client = await this.clientFor(address);
    if (!client || this.closed) return;
    try {
      client.oneway({ code: RequestCode.NOTIFY_MIN_BROKER_ID_CHANGE, extFields });
    } catch (err) {
      this.options.logger.warn({ broker: address, err: errorMessage(err) }, 'NOTIFY_MIN_BROKER_ID_CHANGE not sent');
      this.clients.delete(address);
    }
  }

  private clientFor(address: string): Promise<RemotingClient | undefined> {
    const cached = this.clients.get(address);
    if (cached) return cached;
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator);
    const port = Number(address.slice(separator + 1));
    const connecting = RemotingClient.connect({
      host,
      port,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 300,
    }).then(
      (client) => {
        client.onClose(() => this.clients.delete(address));
        return client;
      },
      (err: Error) => {
        this.options.logger.warn(
          { broker: address, err: err.message },
          'cannot reach broker to notify min broker id change',
        );
        this.clients.delete(address);
        return undefined;
      },
    );
    this.clients.set(address, connecting);
    return connecting;
  }
}
