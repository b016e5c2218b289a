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

/** The ports a started server prints (`remoting on host:port, http on host:port`). */
export async function portsOf(cli: SpawnedCli): Promise<{ remoting: number; http: number }> {
  const address = /remoting on [^\n]*:(\d+), http on [^\n]*:(\d+)/;
  // Which stream carries the line is a test of its own (test/cli/operator.test.ts); here either will do.
  const match = await Promise.any([cli.until(address, 'stdout'), cli.until(address, 'stderr')]);
  return { remoting: Number(match[1]), http: Number(match[2]) };
}
