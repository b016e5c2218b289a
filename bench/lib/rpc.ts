/**
 * Parent/child plumbing for benchmark processes: each role (name server,
 * ceiling server, load generators) runs in its own Node process, so no two
 * share an event loop. The parent calls named commands; the child answers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request {
  rpc: number;
  cmd: string;
  args: unknown;
}

interface Reply {
  rpc: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export type Handlers = Record<string, (args: any) => unknown>;

/** Child side: answer the parent's calls with `handlers`; exits when the parent goes away. */
export function serveParent(handlers: Handlers): void {
  if (!process.send) throw new Error('bench process must be started by bench/run.js (no IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const msg = raw as Request;
    if (!msg || typeof msg.rpc !== 'number') return;
    const reply = (r: Omit<Reply, 'rpc'>) => process.send!({ rpc: msg.rpc, ...r });
    const handler = handlers[msg.cmd];
    if (!handler) {
      reply({ ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.args))
      .then(
        (value) => reply({ ok: true, value: value ?? null }),
        (err: unknown) =>
          reply({ ok: false, error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) }),
      );
  });
}

export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; cmd: string }>();
  private exited = false;
  readonly exitedPromise: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (raw: unknown) => {
      const msg = raw as Reply;
      const w = this.waiting.get(msg.rpc);
      if (!w) return;
      this.waiting.delete(msg.rpc);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new Error(`${name}.${w.cmd}: ${msg.error}`));
    });
    this.exitedPromise = new Promise((resolve) => {
      proc.on('exit', (code) => {
        this.exited = true;
        for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (code ${code}) during ${w.cmd}`));
        this.waiting.clear();
        resolve(code);
      });
    });
  }

  /** Forks bench/procs/<module>.js (compiled) with extra node flags. */
  static start(
    name: string,
    module: string,
    options: { execArgv?: string[]; env?: Record<string, string> } = {},
  ): Child {
    const path = fileURLToPath(new URL(`../procs/${module}.js`, import.meta.url));
    const proc = fork(path, [], {
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...(options.env ?? {}) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(name, proc);
  }

  call<T = any>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const rpc = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(rpc, { resolve, reject, cmd });
      this.proc.send({ rpc, cmd, args } satisfies Request);
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      await Promise.race([this.call('exit'), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // exiting
    }
    // A child writing its CPU profile on exit takes a moment.
    await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, 15_000))]);
    if (!this.exited) this.proc.kill('SIGTERM');
    await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, 3000))]);
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CPU use of this process since `since`, as a fraction of one core. */
export function cpuMeter(): { read(): { cpu: number; wallMs: number; sleeps: number } } {
  let start = process.cpuUsage();
  let t0 = performance.now();
  let sleeps0 = process.resourceUsage().voluntaryContextSwitches;
  return {
    /** Also counts voluntary context switches: how often a thread of this process went to sleep waiting. */
    read() {
      const d = process.cpuUsage(start);
      const wallMs = performance.now() - t0;
      const sleepsNow = process.resourceUsage().voluntaryContextSwitches;
      const sleeps = sleepsNow - sleeps0;
      start = process.cpuUsage();
      t0 = performance.now();
      sleeps0 = sleepsNow;
      return { cpu: (d.user + d.system) / 1000 / wallMs, wallMs, sleeps };
    },
  };
}
