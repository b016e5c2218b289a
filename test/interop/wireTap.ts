import { connect, createServer, type Server, type Socket } from 'node:net';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';

export interface TappedFrame {
  direction: 'toServer' | 'toClient';
  command: RemotingCommand;
}

/**
 * A transparent TCP relay on 127.0.0.1 in front of a name server that decodes
 * every frame passing through it with xnamesrv's own decoder, so a test can
 * see exactly what a third-party client puts on the wire (its `version`,
 * `language`, header fields) and what it receives, without touching the client.
 */
export class WireTap {
  readonly frames: TappedFrame[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(target: { host: string; port: number }): Promise<WireTap> {
    const tap = new WireTap(target);
    await new Promise<void>((resolve) => tap.server.listen(0, '127.0.0.1', resolve));
    return tap;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  requests(code?: number): RemotingCommand[] {
    return this.frames
      .filter((f) => f.direction === 'toServer' && (code === undefined || f.command.code === code))
      .map((f) => f.command);
  }

  /** The response relayed back for a request (matched by opaque). */
  responseTo(request: RemotingCommand): RemotingCommand | undefined {
    return this.frames.find((f) => f.direction === 'toClient' && f.command.opaque === request.opaque)?.command;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const upstream = connect(this.target);
    this.sockets.add(client).add(upstream);
    const tap = (direction: TappedFrame['direction']) => {
      const decoder = new FrameDecoder();
      return (chunk: Buffer) => {
        const { frames, error } = decoder.push(chunk);
        for (const command of frames) this.frames.push({ direction, command });
        if (error) throw new Error(`wire tap could not decode ${direction} traffic: ${error}`);
      };
    };
    const toServer = tap('toServer');
    const toClient = tap('toClient');
    client.on('data', (chunk: Buffer) => {
      toServer(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      toClient(chunk);
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
