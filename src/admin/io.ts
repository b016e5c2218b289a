/**
 * Where the operator tools write and what stops them. The CLI passes the
 * process streams and its signals; tests pass collecting writers and an
 * AbortController, so every command runs in-process.
 */

export interface Writer {
  write(text: string): unknown;
}

export interface ToolIo {
  stdout: Writer;
  stderr: Writer;
  /**
   * Aborted to stop a long-running command (admin watch, sim) as SIGINT or
   * SIGTERM would. Absent: the tool listens to the process signals itself.
   */
  signal?: AbortSignal;
}

/**
 * The process streams. A reader that goes away (`admin topicList | head`)
 * makes further writes fail with EPIPE: those are dropped instead of
 * crashing the tool, which then finishes (and closes its connections) as usual.
 */
export function processIo(): ToolIo {
  return { stdout: pipeSafe(process.stdout), stderr: pipeSafe(process.stderr) };
}

function pipeSafe(stream: NodeJS.WriteStream): Writer {
  let broken = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
    else throw err;
  });
  return {
    write: (text: string) => {
      if (!broken) stream.write(text);
    },
  };
}

/**
 * The signal the tool stops on: the caller's, or one aborted by the first
 * SIGINT/SIGTERM (whose name is the abort reason). `dispose` removes the
 * process listeners again.
 */
export function stopSignal(io: ToolIo): { signal: AbortSignal; dispose(): void } {
  if (io.signal) return { signal: io.signal, dispose: () => undefined };
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => controller.abort(name);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Resolves when the signal aborts (at once when it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** An error with a stable exit code: 2 for usage and reachability, 1 for server refusals. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/**
 * A usage mistake, written as every xnamesrv command writes one (what is
 * wrong, then where its help is), and its exit code.
 * `helpFor` is the command whose --help to point at (`admin topicRoute`).
 */
export function usageError(io: ToolIo, command: string, message: string, helpFor = command): 2 {
  io.stderr.write(`xnamesrv ${command}: ${message}\nRun 'xnamesrv ${helpFor} --help' for usage.\n`);
  return 2;
}
