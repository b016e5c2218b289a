import { describeOptions, parseCount, parseToolArgv, type OptionSpecs } from '../admin/argv.js';
import { processIo, stopSignal, usageError, whenAborted, type ToolIo } from '../admin/io.js';
import { urlHost } from '../admin/portProbe.js';
import { InspectorRelay, type RelayClientEvent } from '../inspect/relay.js';
import { createSummaryLines } from '../inspect/summaryLine.js';
import { errorMessage } from '../util/errorMessage.js';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';

const OPTIONS: OptionSpecs = {
  port: {
    type: 'string',
    short: 'p',
    value: '<port>',
    description: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`,
  },
  host: {
    type: 'string',
    value: '<address>',
    description: `address to listen on (default ${DEFAULT_HOST}; the relay has no authentication)`,
  },
  quiet: { type: 'boolean', short: 'q', description: 'relay only: no line per message on stdout' },
  help: { type: 'boolean', short: 'h', description: 'this text' },
};

export const INSPECTOR_USAGE = `Usage: xnamesrv inspector [options]

Runs an inspector for 'xnamesrv --inspect': a WebSocket relay that takes the
inspection events of name servers and forwards each to every receiver (any
other client, e.g. createWebSocketReceiver from @statelyai/inspect). It prints
one line per actor, event and snapshot on stdout; connections and the
listening address go to stderr. New clients first get the known actors and
the latest events. Stops on SIGINT/SIGTERM.

${describeOptions(OPTIONS)}
Example:
  xnamesrv inspector --port 8080
  xnamesrv --inspect ws://127.0.0.1:8080      (in another terminal)
`;

type Parsed = { ok: true; host: string; port: number; quiet: boolean } | { ok: false; error: string } | { ok: 'help' };

function parse(argv: string[]): Parsed {
  const args = parseToolArgv(argv, OPTIONS);
  if (!args.ok) return args;
  const v = args.values;
  if (v.help) return { ok: 'help' };
  if (args.positionals.length > 0)
    return { ok: false, error: `unexpected argument ${JSON.stringify(args.positionals[0])}` };
  const port = v.port === undefined ? DEFAULT_PORT : parseCount(v.port as string, '--port', 0, 65535);
  if (typeof port === 'string') return { ok: false, error: port };
  const host = v.host === undefined ? DEFAULT_HOST : (v.host as string).trim();
  if (host === '') return { ok: false, error: '--host: expected an address, got an empty string' };
  return { ok: true, host, port, quiet: v.quiet === true };
}

function clientLine(event: RelayClientEvent): string {
  switch (event.type) {
    case 'connected':
      return `xnamesrv inspector: ${event.client} connected\n`;
    case 'disconnected':
      return `xnamesrv inspector: ${event.role} ${event.client} disconnected after ${event.messages} message(s)\n`;
    case 'ignored':
      return `xnamesrv inspector: ignoring messages from ${event.client}: ${event.why}\n`;
  }
}

/**
 * `xnamesrv inspector [options]`: exit 0 after SIGINT/SIGTERM, 1 when the
 * address cannot be bound, 2 on bad arguments.
 */
export async function runInspector(argv: string[], io: ToolIo = processIo()): Promise<number> {
  const parsed = parse(argv);
  if (parsed.ok === 'help') {
    io.stdout.write(INSPECTOR_USAGE);
    return 0;
  }
  if (!parsed.ok) {
    return usageError(io, 'inspector', parsed.error);
  }
  const summarize = createSummaryLines();
  const stop = stopSignal(io);
  try {
    let relay: InspectorRelay;
    try {
      relay = await InspectorRelay.listen({
        host: parsed.host,
        port: parsed.port,
        onClient: (event) => io.stderr.write(clientLine(event)),
        onMessage: parsed.quiet
          ? undefined
          : ({ message }) => {
              const line = summarize(message);
              if (line) io.stdout.write(`${line}\n`);
            },
      });
    } catch (err) {
      io.stderr.write(`xnamesrv inspector: cannot listen on ${parsed.host}:${parsed.port}: ${errorMessage(err)}\n`);
      return 1;
    }
    const url = `ws://${urlHost(parsed.host)}:${relay.port}`;
    io.stderr.write(`xnamesrv inspector: listening on ${url}; start a name server with --inspect ${url}\n`);
    await whenAborted(stop.signal);
    await relay.close();
    return 0;
  } finally {
    stop.dispose();
  }
}
