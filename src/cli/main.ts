#!/usr/bin/env node
import { homedir } from 'node:os';
import { errorStack } from '../util/errorMessage.js';

/**
 * `xnamesrv [options]` starts a name server; `xnamesrv admin ...`,
 * `xnamesrv sim ...`, `xnamesrv conform ...` and `xnamesrv inspector ...` are
 * the operator tools. `xnamesrv --help` lists them, `xnamesrv --version` prints
 * the version. Exit codes: 0 after a clean stop, 1 when start-up fails (port
 * in use, unreadable data), 2 on bad arguments, bad configuration or an
 * unreachable server.
 *
 * Each subcommand parses its own options with node:util parseArgs (see
 * src/admin/argv.ts); the dispatch here is one switch on the first word, which
 * is all a subcommand framework would add, so there is none.
 */

/** The subcommands, one line each, as `xnamesrv --help` lists them. */
const SUBCOMMANDS: ReadonlyArray<{ name: string; usage: string; summary: string }> = [
  {
    name: 'admin',
    usage: 'admin <command> [options]',
    summary: "mqadmin's name server commands (clusterList, topicRoute, updateNamesrvConfig, ...) and watch",
  },
  {
    name: 'sim',
    usage: 'sim [options]',
    summary: 'simulated brokers that register with name servers, with crashes, partitions and restarts',
  },
  {
    name: 'conform',
    usage: 'conform [options]',
    summary: "check a name server (xnamesrv or Java) against xnamesrv's lifecycle and broker charts, with reports",
  },
  {
    name: 'inspector',
    usage: 'inspector [options]',
    summary: "a local inspector for 'xnamesrv --inspect': prints every actor event and snapshot",
  },
  { name: 'help', usage: 'help [command]', summary: "this text, or a command's help" },
];

const VERSION_FLAGS = new Set(['-v', '--version']);
const HELP_FLAGS = new Set(['-h', '--help']);

async function version(): Promise<string> {
  const { createServerIdentity } = await import('../gateway/serverIdentity.js');
  return createServerIdentity().version;
}

/** `xnamesrv --help`: the subcommands, then the server's own options (serve.ts's USAGE). */
async function topLevelHelp(): Promise<string> {
  const { USAGE } = await import('./serve.js');
  const rows = [
    { usage: '[options]', summary: 'start a name server (options below)' },
    ...SUBCOMMANDS,
    { usage: '--version, -v', summary: 'print the version' },
  ];
  const width = Math.max(...rows.map((r) => r.usage.length)) + 'xnamesrv '.length;
  const lines = rows.map((r) => `  ${`xnamesrv ${r.usage}`.padEnd(width)}  ${r.summary}\n`).join('');
  return `xnamesrv ${await version()}: an Apache RocketMQ name server, and tools to run beside one.

Commands:
${lines}
Run 'xnamesrv <command> --help' for a command's options ('xnamesrv admin help <command>' for one admin command).

${USAGE}`;
}

/** `xnamesrv help [command]`: exit 2 for an unknown command. */
async function helpFor(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case undefined:
    case 'help':
      process.stdout.write(await topLevelHelp());
      return 0;
    case 'admin': {
      const { runAdmin } = await import('./admin.js');
      return runAdmin(['help', ...rest], process.env);
    }
    case 'sim':
    case 'conform':
    case 'inspector':
      return main([command, '--help']);
    case 'serve':
    case 'start': {
      const { USAGE } = await import('./serve.js');
      process.stdout.write(USAGE);
      return 0;
    }
    default:
      process.stderr.write(
        `xnamesrv: no help for ${JSON.stringify(command)}: commands are ${SUBCOMMANDS.map((c) => c.name).join(', ')}\n`,
      );
      return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'admin': {
      const { runAdmin } = await import('./admin.js');
      return runAdmin(rest, process.env);
    }
    case 'sim': {
      const { runSimulator } = await import('./sim.js');
      return runSimulator(rest, process.env);
    }
    case 'inspector': {
      const { runInspector } = await import('./inspector.js');
      return runInspector(rest);
    }
    case 'conform': {
      const { runConform } = await import('./conform.js');
      return runConform(rest);
    }
    case 'help':
      return helpFor(rest[0], rest.slice(1));
    default: {
      // Server options: `--help` and `--version` anywhere among them, as mqnamesrv's -h.
      if (argv.some((a) => HELP_FLAGS.has(a))) return helpFor(undefined, []);
      if (argv.some((a) => VERSION_FLAGS.has(a))) {
        process.stdout.write(`xnamesrv ${await version()}\n`);
        return 0;
      }
      const { runServe } = await import('./serve.js');
      return runServe(argv, process.env, homedir());
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`xnamesrv: ${errorStack(err)}\n`);
    process.exitCode = 1;
  },
);
