/**
 * The text to show an operator for something thrown: an Error's message, or
 * the thrown value itself as a string (code may throw anything).
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
