// node:util parseArgs is built into Node and maintained with it: no third-party
// argument parser to audit or keep up to date. It runs non-strict here so that
// every mistake is reported in our own words (strict mode throws its own text).
//
// Why not commander or yargs (issue 15): the tools have a dozen flags each and
// one level of subcommands (admin's `kv put`); parseArgs already does the
// tokenizing, and the loop below only turns tokens into our messages
// (`option -t needs a value, got the option -n`), which a framework would
// word its own way. The same OptionSpecs give the help text, the dispatch is a
// switch in cli/main.ts and a table in admin/commands.ts, and the server's own
// flags (config/load.ts, also parseArgs) take any `--<configKey>`, which a
// declared-options framework would not. A framework would add a dependency
// and a second style of parsing without removing code.
import { parseArgs } from 'node:util';
import { optionValue } from '../util/optionValue.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `<topic>`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedArgv = { ok: true; values: OptionValues; positionals: string[] } | { ok: false; error: string };

/** Parses argv against `specs`: unknown options, missing values and repeats are errors. */
export function parseToolArgv(argv: string[], specs: OptionSpecs): ParsedArgv {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const values: OptionValues = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    // Own keys only: `--constructor` is an unknown option, not Object.prototype's.
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    const written = (argv[token.index] ?? token.rawName).split('=')[0]!;
    if (!spec) return { ok: false, error: `unknown option ${written}` };
    const shown = spec.short && token.rawName === `-${spec.short}` ? `-${spec.short}` : `--${token.name}`;
    const given = optionValue(token, spec.type, 'option', shown);
    if (!given.ok) return given;
    const value = given.value;
    if (value === true) {
      values[token.name] = true;
      continue;
    }
    if (spec.multiple) {
      const list = (values[token.name] as string[] | undefined) ?? [];
      list.push(value);
      values[token.name] = list;
    } else {
      if (values[token.name] !== undefined) return { ok: false, error: `option ${shown} given more than once` };
      values[token.name] = value;
    }
  }
  return { ok: true, values, positionals };
}

/** Help lines for a set of options, aligned. */
export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : ''}`;
    return [flag, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}\n`).join('');
}

/** A number of seconds (decimals allowed) at least `min`, or an error message. */
export function parseSeconds(text: string, what: string, min = 0): number | string {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return `${what}: expected a number of seconds, got ${JSON.stringify(text)}`;
  const n = Number(text);
  if (n < min) return `${what}: must be at least ${min}, got ${text}`;
  return n;
}

/** A whole number within [min, max], or an error message. */
export function parseCount(text: string, what: string, min: number, max: number): number | string {
  if (!/^\d+$/.test(text.trim())) return `${what}: expected a whole number, got ${JSON.stringify(text)}`;
  const n = Number(text);
  if (n < min || n > max) return `${what}: must be between ${min} and ${max}, got ${text}`;
  return n;
}
