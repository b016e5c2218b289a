/** The part of a node:util parseArgs option token (`tokens: true`) that carries its value. */
export interface OptionToken {
  value?: string | undefined;
  /** True for `--name=value`, false for `--name value`. */
  inlineValue?: boolean | undefined;
}

export type OptionValue = { ok: true; value: string | true } | { ok: false; error: string };

/**
 * An option's value, checked against its type, with the mistake in words:
 * parseArgs runs non-strict so that every mistake reads the same way in every
 * command (strict mode throws its own text). A boolean takes no value; a
 * string option needs one; and `-t -n x` is refused rather than read as the
 * topic "-n", unless written `-t=-n`. `kind` is what the command calls its
 * options ('flag', 'option'); `shown` is the option as the user wrote it.
 */
export function optionValue(token: OptionToken, type: 'string' | 'boolean', kind: string, shown: string): OptionValue {
  const value = token.value;
  if (type === 'boolean') {
    return value === undefined ? { ok: true, value: true } : { ok: false, error: `${kind} ${shown} takes no value` };
  }
  if (value === undefined) return { ok: false, error: `${kind} ${shown} needs a value` };
  if (!token.inlineValue && /^--?[A-Za-z]/.test(value)) {
    return {
      ok: false,
      error: `${kind} ${shown} needs a value, got the ${kind} ${value} (write ${shown}=${value} if that is the value)`,
    };
  }
  return { ok: true, value };
}
