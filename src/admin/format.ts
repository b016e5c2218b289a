/** Human output of the admin tool: aligned tables in the spirit of mqadmin's. */

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

/** PermName.perm2String: R, W and X (inherit) or "-" for each bit. */
export function permString(perm: number): string {
  return `${perm & 4 ? 'R' : '-'}${perm & 2 ? 'W' : '-'}${perm & 1 ? 'X' : '-'}`;
}

/** Broker ids sorted numerically. */
export function sortedIds(addrs: Record<string, string>): string[] {
  return Object.keys(addrs).sort((a, b) => Number(a) - Number(b));
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** `2026-01-01T00:00:00.000Z` for epoch millis, the text itself for strings, `-` otherwise. */
export function timeText(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value === 'string' && value !== '') return value;
  return '-';
}
