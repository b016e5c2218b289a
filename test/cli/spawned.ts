import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// `npm test` builds first; these run the real command as an operator would.
export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

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
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const text = { stdout: '', stderr: '' };
  let waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout!.on('data', (d) => ((text.stdout += d), wake()));
  child.stderr!.on('data', (d) => ((text.stderr += d), wake()));
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
        const check = () => {
          const match = pattern.exec(text[stream]);
          if (match) resolve(match);
          else if (exit) reject(new Error(`exited (${exit.code ?? exit.signal}) before ${stream} showed ${pattern}:\n${text.stderr}`));
          else return;
          waiters = waiters.filter((w) => w !== check);
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
