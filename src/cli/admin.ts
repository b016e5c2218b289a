import { DEFAULT_HTTP_PORT } from '../admin/portProbe.js';
import { nameServerListFrom } from '../admin/address.js';
import { describeOptions, parseCount, parseToolArgv, type OptionSpecs } from '../admin/argv.js';
import { ALIASES, COMMANDS, type CommandDef } from '../admin/commands.js';
import { processIo, ToolError, usageError, type ToolIo } from '../admin/io.js';

/**
 * `xnamesrv admin <command> [options]`: a small mqadmin for name servers,
 * speaking only the remoting protocol (and, for `watch`, the gateway), so it
 * works against xnamesrv and the Java NameServer alike.
 *
 * Exit codes: 0 success; 1 a name server answered with an error code;
 * 2 bad arguments or no reachable server.
 */

const COMMON_OPTIONS: OptionSpecs = {
  namesrvAddr: {
    type: 'string',
    short: 'n',
    value: '<host:port;...>',
    description: 'name servers (default $NAMESRV_ADDR, else 127.0.0.1:9876)',
  },
  json: { type: 'boolean', description: 'machine-readable JSON on stdout' },
  timeout: { type: 'string', value: '<ms>', description: 'connect and request timeout (default 3000)' },
  tls: {
    type: 'boolean',
    description: "connect over TLS (tls.server.mode permissive or enforcing); like Java's clients, any certificate",
  },
  help: { type: 'boolean', short: 'h', description: 'help' },
};

/** mqadmin's name for a command, when it has another one (kv put = updateKvConfig). */
function mqadminName(def: CommandDef): string | undefined {
  return Object.entries(ALIASES).find(([, name]) => name === def.name)?.[0];
}

export function adminUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => {
    const alias = mqadminName(c);
    return `  ${c.name.padEnd(width)}  ${c.summary}${alias ? ` mqadmin: ${alias}.` : ''}\n`;
  }).join('');
  return `Usage: xnamesrv admin <command> [options]
       xnamesrv admin help [command]

Commands (mqadmin's names and options where mqadmin has the command):
${lines}
Read commands ask the first reachable name server; write commands (updateNamesrvConfig,
wipeWritePerm, addWritePerm, deleteTopic, kv put, kv delete) go to every listed server
and report per server. mqadmin's updateKvConfig and deleteKvConfig are accepted too.
-n is the name servers' remoting address (listenPort, default 9876), as for mqadmin.
watch finds the gateway by asking the first reachable one for its httpPort
(GET_NAMESRV_CONFIG); --gateway or XNAMESRV_GATEWAY=ws://host:httpPort/ws overrides.

Options for every command:
${describeOptions(COMMON_OPTIONS)}
Exit codes: 0 success, 1 a name server answered with an error, 2 bad arguments or unreachable.
Run 'xnamesrv admin <command> --help' for a command's options.
`;
}

function commandUsage(def: CommandDef): string {
  const options = Object.keys(def.options).length > 0 ? `Options:\n${describeOptions(def.options)}\n` : '';
  const alias = mqadminName(def);
  return `Usage: xnamesrv admin ${def.name} ${def.usage}${def.usage ? ' ' : ''}[-n host:port;...] [--json]
${alias ? `       xnamesrv admin ${alias} ${def.usage} (mqadmin's name)\n` : ''}
${def.summary}

${options}Options for every command:
${describeOptions(COMMON_OPTIONS)}`;
}

/** Every command's options merged (a name repeatable anywhere is repeatable here): enough to find the command. */
function allOptions(): OptionSpecs {
  const specs: OptionSpecs = { ...COMMON_OPTIONS };
  for (const def of COMMANDS) {
    for (const [name, spec] of Object.entries(def.options)) {
      const seen = specs[name];
      specs[name] = seen
        ? { ...seen, short: seen.short ?? spec.short, multiple: (seen.multiple ?? false) || (spec.multiple ?? false) }
        : spec;
    }
  }
  return specs;
}

function findCommand(positionals: string[]): { def: CommandDef; used: number } | { error: string } {
  const [first, second] = positionals;
  if (first === undefined) return { error: 'no command given' };
  const aliased = Object.hasOwn(ALIASES, first) ? ALIASES[first] : undefined;
  if (aliased) return { def: COMMANDS.find((c) => c.name === aliased)!, used: 1 };
  if (first === 'kv') {
    if (second === undefined) return { error: 'kv needs a subcommand: get, put, delete or list' };
    const def = COMMANDS.find((c) => c.name === `kv ${second}`);
    return def
      ? { def, used: 2 }
      : { error: `unknown kv subcommand ${JSON.stringify(second)} (get, put, delete, list)` };
  }
  const def = COMMANDS.find((c) => c.name === first);
  if (def) return { def, used: 1 };
  const lower = first.toLowerCase();
  const guess = COMMANDS.find((c) => c.name.toLowerCase() === lower || c.name.toLowerCase().startsWith(lower));
  return { error: `unknown command ${JSON.stringify(first)}${guess ? ` (did you mean ${guess.name}?)` : ''}` };
}

export interface AdminDefaults {
  /** The httpPort watch tries when no name server reports one (tests point it at a closed port). */
  httpPort: number;
}

export async function runAdmin(
  argv: string[],
  env: Record<string, string | undefined>,
  io: ToolIo = processIo(),
  defaults: AdminDefaults = { httpPort: DEFAULT_HTTP_PORT },
): Promise<number> {
  const usage = (message: string, helpFor = 'admin'): number => usageError(io, 'admin', message, helpFor);
  // First pass: every command's options are known, to find the command; the
  // second pass reads argv with exactly that command's options.
  const union = allOptions();
  const first = parseToolArgv(argv, union);
  if (!first.ok) return usage(first.error);
  const { positionals } = first;
  let values = first.values;
  // `admin help [command]`, as mqadmin's `help <command>`.
  if (positionals[0] === 'help') {
    const asked = positionals.slice(1);
    if (asked.length === 0) {
      io.stdout.write(adminUsage());
      return 0;
    }
    const wanted = findCommand(asked);
    if ('error' in wanted) return usage(wanted.error);
    if (asked.length > wanted.used) return usage(`unexpected argument ${JSON.stringify(asked[wanted.used])}`);
    io.stdout.write(commandUsage(wanted.def));
    return 0;
  }
  if (positionals.length === 0) {
    if (values.help) {
      io.stdout.write(adminUsage());
      return 0;
    }
    return usage('no command given');
  }
  const found = findCommand(positionals);
  if ('error' in found) return usage(found.error);
  const { def, used } = found;
  const commandHelp = `admin ${def.name}`;
  if (values.help) {
    io.stdout.write(commandUsage(def));
    return 0;
  }
  if (positionals.length > used) return usage(`unexpected argument ${JSON.stringify(positionals[used])}`, commandHelp);
  for (const name of Object.keys(values)) {
    if (!(name in COMMON_OPTIONS) && !(name in def.options)) {
      const spec = union[name]!;
      return usage(`${def.name} takes no option ${spec.short ? `-${spec.short}/` : ''}--${name}`, commandHelp);
    }
  }
  const exact = parseToolArgv(argv, { ...COMMON_OPTIONS, ...def.options });
  if (!exact.ok) return usage(exact.error, commandHelp);
  values = exact.values;
  for (const name of def.required) {
    const value = values[name];
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
      const spec = def.options[name]!;
      return usage(
        `${def.name} needs ${spec.short ? `-${spec.short} ` : `--${name} `}${spec.value ?? '<value>'}`,
        commandHelp,
      );
    }
  }
  const addrs = nameServerListFrom(values.namesrvAddr as string | undefined, env);
  if (!addrs.ok) return usage(addrs.error);
  let timeoutMs = 3000;
  if (values.timeout !== undefined) {
    const n = parseCount(values.timeout as string, '--timeout', 1, 600_000);
    if (typeof n === 'string') return usage(n);
    timeoutMs = n;
  }
  try {
    return await def.run({
      values,
      addrs: addrs.addrs,
      json: values.json === true,
      timeoutMs,
      tls: values.tls === true,
      io,
      env,
      defaultHttpPort: defaults.httpPort,
    });
  } catch (err) {
    if (err instanceof ToolError) {
      io.stderr.write(`xnamesrv admin: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
