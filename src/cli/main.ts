#!/usr/bin/env node
import { homedir } from 'node:os';
import { runServe } from './serve.js';

/**
 * `xnamesrv [options]` starts a name server; `xnamesrv admin ...`,
 * `xnamesrv sim ...` and `xnamesrv inspector ...` are the operator tools.
 * Exit codes: 0 after a clean stop, 1 when start-up fails (port in use,
 * unreadable data), 2 on bad arguments, bad configuration or an unreachable
 * server.
 */
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
    default:
      return runServe(argv, process.env, homedir());
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`xnamesrv: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
