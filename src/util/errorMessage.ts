/**
 * The text to show an operator for something thrown: an Error's message, or
 * the thrown value itself as a string (code may throw anything).
 *
 * An Error with an empty message is never worth showing as "": Node rejects a
 * connection tried on every address of a name (localhost: ::1, then 127.0.0.1)
 * with an AggregateError whose own message is empty, so its parts speak for it;
 * any other is named by its system error code, or else by its class.
 */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorMessage).join('; ');
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : err.name;
}

/**
 * What to print when a command dies of something unexpected: an Error's stack
 * (which starts with its name and message), else the same as errorMessage.
 */
export function errorStack(err: unknown): string {
  return err instanceof Error && err.stack !== undefined ? err.stack : errorMessage(err);
}

/**
 * A thrown value as a SYSTEM_ERROR remark: an Error's class and message, as
 * Java's name server puts the exception's class in its remark.
 */
export function errorWithClass(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${errorMessage(err)}` : errorMessage(err);
}

/** errorMessage, led by the system error code when the message does not already carry it. */
export function errorWithCode(err: unknown): string {
  const message = errorMessage(err);
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && code !== '' && !message.includes(code) ? `${code}: ${message}` : message;
}
