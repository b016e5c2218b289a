#!/usr/bin/env node
import { homedir } from 'node:os';
import { runServe } from './serve.js';

/**
 * `xnamesrv [options]` starts a name server. Exit codes: 0 after a clean stop,
 * 1 when start-up fails (port in use, unreadable data), 2 on bad arguments or
 * configuration.
 */
async function main(argv: string[]): Promise<number> {
  return runServe(argv, process.env, homedir());
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
