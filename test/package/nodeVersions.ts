import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Which Node.js versions a range admits, as a union of half-open intervals
 * [from, to) of versions encoded as major * 1e6 + minor * 1e3 + patch. Covers
 * what package.json `engines` fields use: `||`, space-separated comparators
 * (>=, >, <=, <, =), `^`, `~`, partial versions (`20`, `20.15`, `10.x`), `*`.
 * Prerelease tags are ignored.
 */
export type VersionRange = Array<{ from: number; to: number }>;

const ANY: VersionRange = [{ from: 0, to: Infinity }];

export function encodeVersion(major: number, minor = 0, patch = 0): number {
  return major * 1_000_000 + minor * 1_000 + patch;
}

export function formatVersion(encoded: number): string {
  return `${Math.floor(encoded / 1_000_000)}.${Math.floor(encoded / 1_000) % 1_000}.${encoded % 1_000}`;
}

interface Partial3 {
  parts: number[]; // 0 to 3 numbers; fewer means the rest are wildcards
}

function parsePartial(text: string): Partial3 {
  const clean = text.replace(/^v/, '').replace(/[-+].*$/, '');
  if (clean === '' || clean === '*' || clean === 'x' || clean === 'X') return { parts: [] };
  const parts: number[] = [];
  for (const piece of clean.split('.')) {
    if (piece === 'x' || piece === 'X' || piece === '*') break;
    if (!/^\d+$/.test(piece)) throw new Error(`cannot read version ${JSON.stringify(text)}`);
    parts.push(Number(piece));
  }
  if (parts.length > 3) throw new Error(`cannot read version ${JSON.stringify(text)}`);
  return { parts };
}

/** The lowest version a partial matches, and the first version after all it matches. */
function bounds({ parts }: Partial3): { low: number; high: number } {
  const [major = 0, minor = 0, patch = 0] = parts;
  const low = encodeVersion(major, minor, patch);
  if (parts.length === 0) return { low: 0, high: Infinity };
  if (parts.length === 1) return { low, high: encodeVersion(major + 1) };
  if (parts.length === 2) return { low, high: encodeVersion(major, minor + 1) };
  return { low, high: low + 1 };
}

function comparator(text: string): { from: number; to: number } {
  const match = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(text)!;
  const op = match[1] ?? '';
  const version = parsePartial(match[2]!);
  const { low, high } = bounds(version);
  const [major = 0, minor = 0] = version.parts;
  switch (op) {
    case '':
    case '=':
      return { from: low, to: high };
    case '>=':
      return { from: low, to: Infinity };
    case '>':
      return { from: high, to: Infinity };
    case '<':
      return { from: 0, to: low };
    case '<=':
      return { from: 0, to: high };
    case '~':
      return { from: low, to: version.parts.length >= 2 ? encodeVersion(major, minor + 1) : high };
    case '^': {
      if (version.parts.length === 0) return { from: 0, to: Infinity };
      if (major > 0 || version.parts.length === 1) return { from: low, to: encodeVersion(major + 1) };
      if (minor > 0 || version.parts.length === 2) return { from: low, to: encodeVersion(0, minor + 1) };
      return { from: low, to: low + 1 };
    }
    default:
      throw new Error(`unknown operator in ${JSON.stringify(text)}`);
  }
}

export function parseRange(text: string): VersionRange {
  const range: VersionRange = [];
  for (const alternative of text.split('||')) {
    const comparators = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter((c) => c !== '');
    if (comparators.length === 0) return ANY;
    let from = 0;
    let to = Infinity;
    for (const c of comparators) {
      const interval = comparator(c);
      from = Math.max(from, interval.from);
      to = Math.min(to, interval.to);
    }
    if (from < to) range.push({ from, to });
  }
  return range;
}

export function satisfies(version: number, range: VersionRange): boolean {
  return range.some((interval) => version >= interval.from && version < interval.to);
}

/**
 * A version that `inner` admits and `outer` does not, or undefined when every
 * version of `inner` is in `outer`. Membership only changes at interval ends,
 * so checking every end (and 0) is exhaustive.
 */
export function versionOutside(inner: VersionRange, outer: VersionRange): number | undefined {
  const points = new Set<number>([0]);
  for (const { from, to } of [...inner, ...outer]) {
    points.add(from);
    if (Number.isFinite(to)) points.add(to);
  }
  return [...points].sort((a, b) => a - b).find((v) => satisfies(v, inner) && !satisfies(v, outer));
}

// ---- Node APIs newer than some release lines ----------------------------------

export interface SourceFile {
  path: string;
  /** The text with whole-line comments removed (a mention in a comment is not a use). */
  code: string;
}

export interface NodeApi {
  api: string;
  /** The Node versions that have it (the `added:` lines of the Node docs, backports included). */
  availableIn: string;
  uses(file: SourceFile): boolean;
}

/** Names a file imports from a module: `import { a, b as c }` gives a, b; namespace and default imports give `*name`. */
function importsFrom(code: string, modules: readonly string[]): Set<string> {
  const names = new Set<string>();
  const specifier = modules.map((m) => m.replace(/[/]/g, '\\/')).join('|');
  const pattern = new RegExp(`import\\s+(?!type\\s)([^;]*?)\\s+from\\s+['"](?:node:)?(?:${specifier})['"]`, 'g');
  for (const match of code.matchAll(pattern)) {
    const clause = match[1]!;
    const named = /\{([^}]*)\}/.exec(clause)?.[1];
    for (const item of named?.split(',') ?? []) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0]!
        .trim();
      if (name !== '' && !item.trim().startsWith('type ')) names.add(name);
    }
    const outside = clause.replace(/\{[^}]*\}/, '').replace(/\*\s+as\s+/, '');
    for (const local of outside
      .split(',')
      .map((s) => s.trim())
      .filter((s) => /^[A-Za-z_$][\w$]*$/.test(s)))
      names.add(`*${local}`);
  }
  return names;
}

/** `member` imported by name from `module`, or read off a namespace/default import of it. */
export function moduleMember(modules: string | readonly string[], ...members: string[]) {
  const list = typeof modules === 'string' ? [modules] : modules;
  return (file: SourceFile): boolean => {
    const names = importsFrom(file.code, list);
    for (const member of members) {
      if (names.has(member)) return true;
      for (const name of names) {
        if (name.startsWith('*') && new RegExp(`\\b${name.slice(1)}\\.${member}\\b`).test(file.code)) return true;
      }
    }
    return false;
  };
}

export function matches(pattern: RegExp) {
  return (file: SourceFile): boolean => pattern.test(file.code);
}

/**
 * APIs that some supported-looking Node versions lack, with the versions
 * that have them. Add an API here when the code starts using something new;
 * the engines test then holds `engines.node` to it. Where unsure, a later
 * version is safer than an earlier one.
 */
export const NODE_APIS: readonly NodeApi[] = [
  // Used by xnamesrv today:
  { api: 'zlib.crc32', availableIn: '^20.15.0 || >=22.2.0', uses: moduleMember('zlib', 'crc32') },
  {
    api: 'os.availableParallelism',
    availableIn: '^18.14.0 || >=19.4.0',
    uses: moduleMember('os', 'availableParallelism'),
  },
  { api: "net.Server 'drop' event", availableIn: '^16.17.0 || >=18.6.0', uses: matches(/\.on\(\s*['"]drop['"]/) },
  { api: 'http.Server#closeAllConnections', availableIn: '>=18.2.0', uses: matches(/\.closeAllConnections\(/) },
  { api: 'util.parseArgs tokens', availableIn: '^16.17.0 || >=18.7.0', uses: matches(/\btokens:\s*true\b/) },
  { api: 'Object.hasOwn', availableIn: '>=16.9.0', uses: matches(/\bObject\.hasOwn\(/) },
  // Not used today; each would raise the minimum:
  {
    api: 'import.meta.dirname / import.meta.filename',
    availableIn: '^20.11.0 || >=21.2.0',
    uses: matches(/\bimport\.meta\.(dirname|filename)\b/),
  },
  { api: 'util.styleText', availableIn: '^20.12.0 || >=21.7.0', uses: moduleMember('util', 'styleText') },
  {
    api: 'util.parseEnv / process.loadEnvFile',
    availableIn: '^20.12.0 || >=21.7.0',
    uses: (f) => moduleMember('util', 'parseEnv')(f) || /\bprocess\.loadEnvFile\(/.test(f.code),
  },
  { api: 'crypto.hash', availableIn: '^20.12.0 || >=21.7.0', uses: moduleMember('crypto', 'hash') },
  {
    api: 'process.getBuiltinModule',
    availableIn: '^20.16.0 || >=22.3.0',
    uses: matches(/\bprocess\.getBuiltinModule\(/),
  },
  { api: 'util.parseArgs allowNegative', availableIn: '^20.16.0 || >=22.4.0', uses: matches(/\ballowNegative\b/) },
  { api: 'URL.parse', availableIn: '^20.18.0 || >=22.1.0', uses: matches(/\bURL\.parse\(/) },
  {
    api: 'Array.prototype.toSorted / toReversed / toSpliced',
    availableIn: '>=20.0.0',
    uses: matches(/\.(toSorted|toReversed|toSpliced)\(/),
  },
  { api: 'Object.groupBy / Map.groupBy', availableIn: '>=21.0.0', uses: matches(/\b(Object|Map)\.groupBy\(/) },
  { api: 'Promise.withResolvers', availableIn: '>=22.0.0', uses: matches(/\bPromise\.withResolvers\b/) },
  { api: 'Array.fromAsync', availableIn: '>=22.0.0', uses: matches(/\bArray\.fromAsync\(/) },
  {
    api: 'Set methods (union, intersection, ...)',
    availableIn: '>=22.0.0',
    uses: matches(/\.(union|intersection|difference|symmetricDifference|isSubsetOf|isSupersetOf|isDisjointFrom)\(/),
  },
  {
    api: 'iterator helpers',
    availableIn: '>=22.0.0',
    uses: matches(
      /\bIterator\.from\(|\.(keys|values|entries)\(\)\s*\.(map|filter|take|drop|flatMap|reduce|toArray|some|every|find|forEach)\(/,
    ),
  },
  { api: 'fs.glob', availableIn: '>=22.0.0', uses: moduleMember(['fs', 'fs/promises'], 'glob', 'globSync') },
  {
    api: 'global WebSocket',
    availableIn: '>=22.4.0',
    uses: (f) =>
      /\bnew WebSocket\(/.test(f.code) &&
      !moduleMember('ws', 'WebSocket', 'default')(f) &&
      !/import\s+WebSocket\b/.test(f.code),
  },
  { api: 'node:sqlite', availableIn: '>=22.5.0', uses: matches(/from\s+['"]node:sqlite['"]/) },
  { api: 'Promise.try', availableIn: '>=23.0.0', uses: matches(/\bPromise\.try\(/) },
  {
    api: 'zlib zstd',
    availableIn: '^22.15.0 || >=23.8.0',
    uses: moduleMember(
      'zlib',
      'createZstdCompress',
      'createZstdDecompress',
      'zstdCompress',
      'zstdCompressSync',
      'zstdDecompress',
      'zstdDecompressSync',
    ),
  },
  {
    api: 'Error.isError / RegExp.escape / Float16Array',
    availableIn: '>=24.0.0',
    uses: matches(/\bError\.isError\(|\bRegExp\.escape\(|\bFloat16Array\b/),
  },
];

/** Every .ts file (not .d.ts) under the given directories, whole-line comments removed. */
export function readSources(root: string, dirs: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const code = readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line))
          .join('\n');
        files.push({ path: relative(root, path), code });
      }
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return files;
}

export interface ApiUse {
  api: string;
  availableIn: string;
  files: string[];
}

export function apisUsed(files: readonly SourceFile[], apis: readonly NodeApi[] = NODE_APIS): ApiUse[] {
  return apis
    .map((api) => ({
      api: api.api,
      availableIn: api.availableIn,
      files: files.filter((f) => api.uses(f)).map((f) => f.path),
    }))
    .filter((use) => use.files.length > 0);
}

/** The uses that a Node version admitted by `engines` lacks, with that version. */
export function violations(uses: readonly ApiUse[], engines: string): Array<ApiUse & { missingIn: string }> {
  const range = parseRange(engines);
  const found: Array<ApiUse & { missingIn: string }> = [];
  for (const use of uses) {
    const outside = versionOutside(range, parseRange(use.availableIn));
    if (outside !== undefined) found.push({ ...use, missingIn: formatVersion(outside) });
  }
  return found;
}
