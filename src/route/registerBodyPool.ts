/**
 * Worker threads that decode large REGISTER_BROKER bodies off the event loop
 * (registerJob.ts). Started on first use, never keep the process alive, and
 * end themselves after a while without work. Created per route table: nothing
 * here is module-level.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RegisterJob, RegisterJobResult } from './registerJob.js';

const WORKER_URL = new URL('./registerBodyWorker.js', import.meta.url);

/** False when the worker script is not beside this module (running from TypeScript sources). */
export function registerBodyWorkersAvailable(): boolean {
  try {
    return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
  } catch {
    return false;
  }
}

/** One thread fewer than the cores, at least one, at most four. */
export function defaultRegisterBodyWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Waiting {
  slot: Slot;
  resolve: (result: RegisterJobResult) => void;
  reject: (error: Error) => void;
}

export class RegisterBodyPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly idleMs = 30_000,
  ) {}

  /** Runs a job on a worker; the job's body buffer is transferred (unusable afterwards). */
  run(job: RegisterJob): Promise<RegisterJobResult> {
    if (this.closed) return Promise.reject(new Error('register body pool is closed'));
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { slot, resolve, reject });
      slot.inFlight++;
      slot.worker.postMessage({ id, job }, [job.body.buffer as ArrayBuffer]);
    });
  }

  /** Ends every worker; jobs in flight are rejected. */
  close(): void {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const slot of this.slots.splice(0)) void slot.worker.terminate();
    this.failAll(new Error('register body pool closed'));
  }

  private pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) if (!best || slot.inFlight < best.inFlight) best = slot;
    if (best && (best.inFlight === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const slot: Slot = { worker, inFlight: 0 };
    worker.on('message', (message: { id: number; result: RegisterJobResult | { failed: string } }) => {
      const w = this.waiting.get(message.id);
      if (!w) return;
      this.waiting.delete(message.id);
      this.settled(slot);
      if ('failed' in message.result) w.reject(new Error(message.result.failed));
      else w.resolve(message.result);
    });
    const lost = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const [id, w] of this.waiting) {
        if (w.slot !== slot) continue;
        this.waiting.delete(id);
        w.reject(error);
      }
    };
    worker.on('error', (err) => lost(err));
    worker.on('exit', (code) => lost(new Error(`register body worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private settled(slot: Slot): void {
    slot.inFlight--;
    if (this.waiting.size > 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.waiting.size > 0) return;
      for (const s of this.slots.splice(0)) void s.worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }
}
