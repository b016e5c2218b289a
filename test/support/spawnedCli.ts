import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// `npm test` builds first; these run the real command as an operator would.
export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** Long enough for a loaded machine, short enough that a missing line fails rather than hangs. */
const UNTIL_MS = 10_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match once the stream shows it; rejects if the process exits first. */
  until(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpExecArray>;
  exited: Promise<Exit>;
  /** Sends the signal and resolves with the exit and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<Exit & { ms: number }>;
}

const running = new Set<SpawnedCli>();

/** `node dist/src/cli/main.js ...args`, its output collected. */
export function spawnCli(args: string[], env: Record<string, string> = {}): SpawnedCli {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = { stdout: '', stderr: '' };
  let waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', (d) => ((text.stdout += d), wake()));
  child.stderr.on('data', (d) => ((text.stderr += d), wake()));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      exit = { code, signal };
      wake();
      resolve(exit);
    }),
  );
  const spawned: SpawnedCli = {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    until(pattern, stream = 'stderr') {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`timed out waiting for ${stream} to show ${pattern}:\n${text.stderr}`)),
          UNTIL_MS,
        );
        const done = (err?: Error, match?: RegExpExecArray) => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          if (err) reject(err);
          else resolve(match!);
        };
        const check = () => {
          const match = pattern.exec(text[stream]);
          if (match) done(undefined, match);
          else if (exit)
            done(new Error(`exited (${exit.code ?? exit.signal}) before ${stream} showed ${pattern}:\n${text.stderr}`));
        };
        waiters.push(check);
        check();
      });
    },
    exited,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      child.kill(signal);
      const result = await exited;
      return { ...result, ms: Date.now() - started };
    },
  };
  running.add(spawned);
  void exited.then(() => running.delete(spawned));
  return spawned;
}

/** For afterEach: nothing a failed test started outlives it. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const spawned of left) spawned.child.kill('SIGKILL');
  await Promise.all(left.map((s) => s.exited));
}

/** The line a started server prints: `remoting on host:port, http on host:port`. */
const PORTS_LINE = /remoting on [^\n]*:(\d+), http on [^\n]*:(\d+)/;

/** The ports a started server prints. */
export async function portsOf(cli: SpawnedCli): Promise<{ remoting: number; http: number }> {
  // Which stream carries the line is a test of its own (test/cli/operator.test.ts); here either will do.
  const match = await Promise.any([cli.until(PORTS_LINE, 'stdout'), cli.until(PORTS_LINE, 'stderr')]);
  return { remoting: Number(match[1]), http: Number(match[2]) };
}

/** A started server with the ports it printed. */
export type StartedCli = SpawnedCli & { remotingPort: number; httpPort: number };

/** `spawnCli`, resolved once the server printed its ports; killed if it never does. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<StartedCli> {
  const cli = spawnCli(args, env);
  try {
    // On stdout, as an operator's script reads it; a failure to start shows stderr.
    const match = await cli.until(PORTS_LINE, 'stdout');
    return Object.assign(cli, { remotingPort: Number(match[1]), httpPort: Number(match[2]) });
  } catch (err) {
    cli.child.kill('SIGKILL');
    throw err;
  }
}

/** Flags for a server on 127.0.0.1 with ports the system picks, its files in `dataDir`. */
export function localServerArgs(dataDir: string, logLevel = 'warn'): string[] {
  return [
    '--data-dir',
    dataDir,
    '--listenPort',
    '0',
    '--httpPort',
    '0',
    '--bindAddress',
    '127.0.0.1',
    '--logLevel',
    logLevel,
  ];
}
