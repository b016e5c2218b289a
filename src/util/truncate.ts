/**
 * At most `max` characters of a text quoted back in an error (a peer's header
 * value, a thrown message), with "..." where it was cut: a remark or a log
 * line stays readable whatever the peer sent.
 */
export function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
