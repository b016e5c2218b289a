/**
 * The registration queue: REGISTER_BROKERs applied strictly in arrival order,
 * with large bodies checked and decoded on worker threads (registerBodyPool.ts,
 * registerJob.ts) while the event loop keeps serving reads, then applied a
 * chunk of topics at a time, taking at most `applyShare` of the event loop.
 * Other writes that must not overtake a queued registration (a broker's
 * UNREGISTER_BROKER) wait behind it (afterQueued).
 *
 * The queue owns ordering and pacing only; what a registration does to the
 * table is the target's `register` steps (registration.ts). While a
 * registration is being applied in chunks, every other writer calls
 * finishApplying first, so the table always goes through whole mutations,
 * one after another.
 */
import { dataVersionEquals, type DataVersion } from '../protocol/types.js';
import { peekRegisterBody } from '../protocol/registerBodyPeek.js';
import { defaultRegisterBodyWorkers, RegisterBodyPool, registerBodyWorkersAvailable } from './registerBodyPool.js';
import { NOT_PREPARED, preparedFromJob, type PreparedBody } from './registerJob.js';
import {
  NEEDS_DECODE,
  runToEnd,
  type RegisterBrokerInput,
  type RegisterBrokerResult,
  type RegistrationSteps,
} from './registration.js';

/** Topics a queued registration applies per turn of the event loop (about half a millisecond). */
const APPLY_CHUNK_TOPICS = 1000;

export interface RegistrationQueueOptions {
  /**
   * Worker threads for decoding large register bodies off the event loop.
   * Default: cores - 1, at least 1, at most 4; 0 decodes on the event loop.
   * Unused when the worker script is missing (TypeScript sources).
   */
  registerBodyWorkers?: number;
  /** Bodies from this size on are decoded on a worker thread (compressed ones from 1/32 of it). Default 256 KiB. */
  asyncDecodeMinBytes?: number;
  /**
   * Largest share of the event loop's time that applying worker-decoded
   * registrations may take (0 < share <= 1): after a chunk of topics the next
   * waits long enough to leave the rest to reads. Default 0.25.
   */
  applyShare?: number;
}

/** The route table, as the queue sees it. */
export interface RegistrationTarget {
  /** The broker's DataVersion if an unchanged body could skip its decode now. */
  fastPathVersion(input: RegisterBrokerInput): DataVersion | undefined;
  /** One registration's steps, announced when they end; yields after every `chunkTopics` topics. */
  register(input: RegisterBrokerInput, prepared: PreparedBody | undefined, chunkTopics: number): RegistrationSteps;
  /** Upper bound on a compressed register body once inflated (read at each decode: it may change). */
  maxInflatedBytes(): number;
}

/** Another write waiting behind queued registrations (afterQueued). */
interface QueuedOperation {
  operation: () => unknown;
  /** Scheduled to run; it leaves the queue when it has run. */
  running: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface QueuedRegistration {
  input: RegisterBrokerInput;
  /** decoded on a worker */
  large: boolean;
  prepared: PreparedBody | undefined;
  decoding: boolean;
  resolve: (result: RegisterBrokerResult) => void;
  reject: (error: unknown) => void;
}

export class RegistrationQueue {
  /** Registrations (and writes queued behind them) waiting their turn: applied strictly in arrival order. */
  private readonly queue: Array<QueuedRegistration | QueuedOperation> = [];
  private readonly registerBodyWorkers: number;
  private readonly asyncDecodeMinBytes: number;
  private readonly applyShare: number;
  /** When the last applied chunk ended, and the pause owed after it (applyShare). */
  private chunkPauseUntil = 0;
  private pumpScheduled = false;
  private pool: RegisterBodyPool | undefined;
  private poolUnavailable = false;
  /** The registration being applied in chunks, if any; always the queue's head. */
  private applying:
    | {
        job: QueuedRegistration;
        steps: RegistrationSteps;
        cancel: () => void;
      }
    | undefined;

  constructor(
    private readonly target: RegistrationTarget,
    options: RegistrationQueueOptions,
  ) {
    this.registerBodyWorkers = options.registerBodyWorkers ?? defaultRegisterBodyWorkers();
    this.asyncDecodeMinBytes = options.asyncDecodeMinBytes ?? 256 * 1024;
    const share = options.applyShare ?? 0.25;
    this.applyShare = share > 0 && share <= 1 ? share : 0.25;
  }

  /** Applies a registration now, decoding its body on this thread. */
  registerNow(input: RegisterBrokerInput): RegisterBrokerResult {
    this.finishApplying();
    return runToEnd(this.target.register(input, undefined, Infinity)) as RegisterBrokerResult;
  }

  /**
   * Applies a registration after every registration submitted before it. A
   * large body is checked and decoded on a worker thread first, so the event
   * loop only pays for applying it. Returns synchronously when nothing is
   * queued and the body is small.
   */
  submit(input: RegisterBrokerInput): RegisterBrokerResult | Promise<RegisterBrokerResult> {
    const fastPathVersion = this.target.fastPathVersion(input);
    const large = this.decodesOffThread(input, fastPathVersion);
    if (!large && this.queue.length === 0) return this.registerNow(input);
    let resolve!: (result: RegisterBrokerResult) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<RegisterBrokerResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job: QueuedRegistration = { input, large, prepared: undefined, decoding: false, resolve, reject };
    this.queue.push(job);
    if (large) this.decodeOffThread(job, fastPathVersion);
    this.pump();
    return promise;
  }

  /**
   * Runs `operation` once every registration submitted before it has been
   * applied and answered, so a broker's UNREGISTER_BROKER cannot overtake its
   * own REGISTER_BROKER still decoding on a worker (Java's write lock gives
   * the same order). Runs it now when nothing is queued. It runs in a
   * microtask after the last of those registrations resolved, so whatever
   * their callers do on resolution happens first.
   */
  afterQueued<T>(operation: () => T): T | Promise<T> {
    if (this.queue.length === 0) return operation();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, running: false, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  /** Registrations (and writes behind them) submitted and not yet applied. */
  get pending(): number {
    return this.queue.length;
  }

  /** Ends the decoding threads (they also end by themselves when idle). */
  close(): void {
    this.finishApplying();
    this.pool?.close();
    this.pool = undefined;
  }

  /**
   * Completes a registration being applied in chunks, now. Every other
   * writer calls this first, so writes never interleave with one.
   */
  finishApplying(): void {
    const applying = this.applying;
    if (applying === undefined) return;
    this.applying = undefined;
    applying.cancel();
    let result: RegisterBrokerResult;
    try {
      result = runToEnd(applying.steps) as RegisterBrokerResult;
    } catch (err) {
      this.queue.shift();
      applying.job.reject(err);
      this.pumpLater();
      return;
    }
    this.queue.shift();
    applying.job.resolve(result);
    this.pumpLater();
  }

  /**
   * Whether a body is worth a worker: large (a compressed one inflates some
   * 50 times), and not a JSON body whose first bytes already show the
   * broker's current DataVersion (an unchanged re-registration costs a
   * checksum and that peek, cheaper here than a trip to a worker).
   */
  private decodesOffThread(input: RegisterBrokerInput, fastPathVersion: DataVersion | undefined): boolean {
    const body = input.body;
    if (body === undefined) return false;
    const threshold = input.compressed ? this.asyncDecodeMinBytes / 32 : this.asyncDecodeMinBytes;
    if (body.length < threshold || this.workerPool() === undefined) return false;
    if (!input.compressed && fastPathVersion !== undefined) {
      const peek = peekRegisterBody(body, { compressed: false });
      if (peek && dataVersionEquals(peek.dataVersion, fastPathVersion)) return false;
    }
    return true;
  }

  private workerPool(): RegisterBodyPool | undefined {
    if (this.pool) return this.pool;
    if (this.poolUnavailable || this.registerBodyWorkers <= 0) return undefined;
    if (!registerBodyWorkersAvailable()) {
      this.poolUnavailable = true;
      return undefined;
    }
    this.pool = new RegisterBodyPool(this.registerBodyWorkers);
    return this.pool;
  }

  private decodeOffThread(job: QueuedRegistration, skipDecodeIfVersion: DataVersion | undefined): void {
    const pool = this.workerPool();
    const body = job.input.body!;
    if (!pool) {
      job.large = false;
      return;
    }
    job.decoding = true;
    // The worker gets its own copy (transferred, not cloned): the received
    // chunk may hold other frames. allocUnsafeSlow: unpooled, not zero-filled.
    const copy = Buffer.allocUnsafeSlow(body.length);
    copy.set(body);
    pool
      .run({
        body: copy,
        compressed: job.input.compressed,
        bodyCrc32: job.input.bodyCrc32,
        clientVersion: job.input.clientVersion,
        now: job.input.now,
        maxInflatedBytes: this.target.maxInflatedBytes(),
        skipDecodeIfVersion,
      })
      .then(
        (result) => {
          job.prepared = preparedFromJob(result);
        },
        () => {
          // A lost worker: this registration decodes on the event loop instead.
          job.large = false;
          job.prepared = undefined;
        },
      )
      .finally(() => {
        job.decoding = false;
        this.pump();
      });
  }

  /**
   * Applies queued registrations from the head while their bodies are ready.
   * A worker-decoded (large) one is applied in chunks of topics with the
   * event loop free in between, and the next one starts in a later turn.
   */
  private pump(): void {
    if (this.applying !== undefined) return;
    const queue = this.queue;
    while (queue.length > 0) {
      const head = queue[0]!;
      if ('operation' in head) {
        if (!head.running) this.runQueuedOperation(head);
        return;
      }
      const job = head;
      if (job.decoding) return;
      if (job.large && performance.now() < this.chunkPauseUntil) {
        this.pumpLater();
        return;
      }
      const steps = this.target.register(
        job.input,
        job.large ? (job.prepared ?? NOT_PREPARED) : undefined,
        job.large ? APPLY_CHUNK_TOPICS : Infinity,
      );
      let step: IteratorResult<undefined, RegisterBrokerResult | typeof NEEDS_DECODE>;
      const started = performance.now();
      try {
        step = steps.next();
      } catch (err) {
        queue.shift();
        job.reject(err);
        continue;
      }
      if (job.large) this.chunkDone(started);
      if (!step.done) {
        this.applying = { job, steps, cancel: this.afterPause(() => this.applyNextChunk()) };
        return;
      }
      if (step.value === NEEDS_DECODE) {
        // The table changed since it was submitted (or the peek said unchanged):
        // it needs its full decode after all.
        this.decodeOffThread(job, undefined);
        if (job.decoding) return;
        continue;
      }
      queue.shift();
      job.resolve(step.value);
      if (job.large && queue.length > 0) {
        this.pumpLater();
        return;
      }
    }
  }

  private runQueuedOperation(queued: QueuedOperation): void {
    queued.running = true;
    // A microtask queued now runs after the reactions to the registrations
    // resolved before it (their answers and actor events).
    queueMicrotask(() => {
      this.queue.shift();
      try {
        queued.resolve(queued.operation());
      } catch (err) {
        queued.reject(err);
      }
      this.pump();
    });
  }

  private pumpLater(): void {
    if (this.queue.length === 0 || this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.afterPause(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** A chunk that started at `started` has ended: the pause it owes the rest of the event loop. */
  private chunkDone(started: number): void {
    const now = performance.now();
    this.chunkPauseUntil = now + (now - started) * (1 / this.applyShare - 1);
  }

  /** Runs `fn` once the owed pause is over (next turn of the event loop at the earliest); returns a canceller. */
  private afterPause(fn: () => void): () => void {
    const wait = this.chunkPauseUntil - performance.now();
    if (wait >= 1) {
      const timer = setTimeout(fn, wait);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  }

  private applyNextChunk(): void {
    const applying = this.applying;
    if (applying === undefined) return;
    let step: IteratorResult<undefined, RegisterBrokerResult | typeof NEEDS_DECODE>;
    const started = performance.now();
    try {
      step = applying.steps.next();
      this.chunkDone(started);
    } catch (err) {
      this.applying = undefined;
      this.queue.shift();
      applying.job.reject(err);
      this.pumpLater();
      return;
    }
    if (!step.done) {
      applying.cancel = this.afterPause(() => this.applyNextChunk());
      return;
    }
    this.applying = undefined;
    this.queue.shift();
    applying.job.resolve(step.value as RegisterBrokerResult);
    this.pumpLater();
  }
}
