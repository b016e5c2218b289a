/** Placeholder replaced by the admin tool (issue 5); refuses clearly until then. */
export async function runAdmin(_argv: string[], _env: Record<string, string | undefined>): Promise<number> {
  process.stderr.write('xnamesrv admin: not available in this build\n');
  return 2;
}
