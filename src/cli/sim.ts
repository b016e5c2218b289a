/** Placeholder replaced by the broker simulator (issue 5); refuses clearly until then. */
export async function runSimulator(_argv: string[], _env: Record<string, string | undefined>): Promise<number> {
  process.stderr.write('xnamesrv sim: not available in this build\n');
  return 2;
}
