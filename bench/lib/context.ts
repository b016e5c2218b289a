import { loadavg } from 'node:os';
import { Child } from './rpc.js';

export interface Row {
  figure: string;
  metric: string;
  value: string;
  reference: string;
  ratio: string;
  target: string;
  met: 'yes' | 'no' | '-';
}

export interface BenchContext {
  quick: boolean;
  /** server processes get --cpu-prof into bench/results/profiles */
  profile: boolean;
  rows: Row[];
  details: Record<string, unknown>;
  log(message: string): void;
  startServer(
    name: string,
    settings?: Record<string, string>,
  ): Promise<{ child: Child; port: number; httpPort: number }>;
  /** Children to stop at the end whatever happens. */
  own(child: Child): Child;
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(digits);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
