import { pino, type Logger } from 'pino';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** pino's numeric levels, for filtering captured lines. */
export const LEVEL = { warn: 40, error: 50, fatal: 60 } as const;

/** A pino logger that keeps every line (parsed) and its raw text. */
export function capturingLogger(level = 'trace'): { logger: Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const logger = pino(
    { level },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}
