import type { ToolIo } from '../../src/admin/io.js';
import type { TestServer } from '../support/harness.js';

export interface Captured {
  io: ToolIo;
  stdout(): string;
  stderr(): string;
  /** Resolves once what was written to stdout (or stderr) matches. */
  until(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
}

/** Writers that collect what a tool prints, and optionally a stop signal. */
export function capture(signal?: AbortSignal): Captured {
  const out: string[] = [];
  const err: string[] = [];
  let waiters: Array<() => boolean> = [];
  const wake = () => {
    waiters = waiters.filter((w) => !w());
  };
  const text = { stdout: () => out.join(''), stderr: () => err.join('') };
  return {
    io: {
      stdout: { write: (s: string) => (out.push(s), wake()) },
      stderr: { write: (s: string) => (err.push(s), wake()) },
      ...(signal ? { signal } : {}),
    },
    ...text,
    until(pattern, stream = 'stdout') {
      return new Promise((resolve) => {
        const check = () => {
          if (!pattern.test(text[stream]())) return false;
          resolve();
          return true;
        };
        if (!check()) waiters.push(check);
      });
    },
  };
}

/**
 * Resolves once `predicate` holds, checking now and after every actor
 * transition of the server (on the next turn, once the transition's effects
 * on the route table have been applied). No polling, no sleeping.
 */
export function waitForServer(t: TestServer, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (predicate()) {
      resolve();
      return;
    }
    let done = false;
    const check = () => {
      if (done || !predicate()) return;
      done = true;
      off();
      resolve();
    };
    const off = t.server.transitions.onTransition(() => {
      check();
      setImmediate(check);
    });
  });
}

/** A port nothing listens on: connecting to it is refused at once. */
export const CLOSED_ADDR = '127.0.0.1:1';
