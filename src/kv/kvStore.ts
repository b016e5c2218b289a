import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../util/atomicFile.js';
import { errorMessage } from '../util/errorMessage.js';

export type KvResult = { ok: true } | { ok: false; error: string };

export type KvFileWriter = (path: string, data: string) => Promise<void>;

export interface KvStoreOptions {
  /** The kvConfig.json file (NamesrvConfig.kvConfigPath). */
  path: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Replaces writeFileAtomic (tests inject failures here). */
  writeFile?: KvFileWriter;
}

type Table = Map<string, Map<string, string>>;

/**
 * The name server's namespaced KV config (PUT_KV_CONFIG, GET_KV_CONFIG,
 * DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE), stored in the same JSON shape as
 * the Java KVConfigSerializeWrapper, `{"configTable":{ns:{key:value}}}`, so
 * the two servers can take over each other's file.
 *
 * A change is acknowledged only once the whole table is durably on disk, and
 * becomes visible to readers only then: memory always equals the file. Writes
 * run one at a time, each on top of the last, so concurrent changes never
 * lose each other.
 */
export class KvStore {
  private table: Table = new Map();
  private readonly path: string;
  private readonly logger: Pick<Logger, 'info' | 'warn' | 'error'> | undefined;
  private readonly writeFile: KvFileWriter;
  private tail: Promise<unknown> = Promise.resolve();
  private lastError: string | undefined;
  private failedWrites = 0;

  constructor(options: KvStoreOptions) {
    this.path = options.path;
    this.logger = options.logger;
    this.writeFile = options.writeFile ?? writeFileAtomic;
  }

  /** Writes that could not be persisted, since start. */
  get writeFailures(): number {
    return this.failedWrites;
  }

  /** The last persistence failure, cleared by the next successful write; readiness reports it. */
  get degraded(): string | undefined {
    return this.lastError;
  }

  /**
   * Reads the file. A missing file is an empty table (first start). A file
   * that cannot be read or parsed is an error: starting with an empty table
   * would overwrite it at the first PUT and lose the data for good.
   */
  async load(): Promise<KvResult> {
    await this.removeStaleTempFiles();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.table = new Map();
        this.logger?.info({ path: this.path }, 'no KV config file yet: starting with an empty table');
        return { ok: true };
      }
      return { ok: false, error: `cannot read KV config file ${this.path}: ${errorMessage(err)}` };
    }

    const parsed = parseTable(text);
    if (!parsed.ok) {
      // RocketMQ's own writer keeps the previous content in <file>.bak; point
      // the operator at it rather than guess which to trust.
      const backup = `${this.path}.bak`;
      const hasBackup = await stat(backup).then(
        (s) => s.isFile(),
        () => false,
      );
      const hint = hasBackup ? `; a previous version may be in ${backup}` : '';
      return {
        ok: false,
        error: `KV config file ${this.path} is corrupt (${parsed.error})${hint}; refusing to start rather than lose it`,
      };
    }
    this.table = parsed.table;
    let items = 0;
    for (const kv of this.table.values()) items += kv.size;
    this.logger?.info({ path: this.path, namespaces: this.table.size, items }, 'KV config loaded');
    return { ok: true };
  }

  /**
   * A process killed in the middle of a write leaves its temporary file
   * (`.kvConfig.json.<pid>.<random>.tmp`, see writeFileAtomic) next to the
   * file; the file itself is intact. Before this store writes anything, such
   * files of processes that are gone (or of this process id, reused after a
   * restart) are leftovers: remove them so crashes do not pile them up.
   */
  private async removeStaleTempFiles(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}.`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
      if (!match) continue;
      const pid = Number(match[1]);
      if (pid !== process.pid && processExists(pid)) continue;
      await unlink(join(dir, name)).then(
        () => this.logger?.info({ path: join(dir, name) }, 'removed a temporary KV file left by an interrupted write'),
        () => undefined,
      );
    }
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /**
   * A copy of one namespace, or undefined when it was never created. As in
   * Java, deleting the last key leaves the namespace, empty.
   */
  getKVListByNamespace(namespace: string): Record<string, string> | undefined {
    const kv = this.table.get(namespace);
    // fromEntries defines own properties, so a key like "__proto__" stays data.
    return kv === undefined ? undefined : Object.fromEntries(kv);
  }

  namespaces(): string[] {
    return [...this.table.keys()];
  }

  put(namespace: string, key: string, value: string): Promise<KvResult> {
    return this.change(`put ${namespace}/${key}`, (table) => {
      const kv = new Map(table.get(namespace));
      if (kv.get(key) === value && table.has(namespace)) return undefined;
      kv.set(key, value);
      return new Map(table).set(namespace, kv);
    });
  }

  delete(namespace: string, key: string): Promise<KvResult> {
    return this.change(`delete ${namespace}/${key}`, (table) => {
      const current = table.get(namespace);
      if (current === undefined || !current.has(key)) return undefined;
      const kv = new Map(current);
      kv.delete(key);
      return new Map(table).set(namespace, kv);
    });
  }

  /** Resolves once every change requested so far has settled (shutdown waits on it). */
  async flush(): Promise<void> {
    await this.tail;
  }

  /**
   * Runs `edit` on the committed table after earlier changes have settled;
   * the edited copy replaces the table only once it is on disk. `edit`
   * returns undefined when there is nothing to change.
   */
  private change(what: string, edit: (table: Table) => Table | undefined): Promise<KvResult> {
    const run = this.tail.then(async (): Promise<KvResult> => {
      const next = edit(this.table);
      if (next === undefined) return { ok: true };
      try {
        await this.writeFile(this.path, serializeTable(next));
      } catch (err) {
        const reason = errorMessage(err);
        this.lastError = `cannot write ${this.path}: ${reason}`;
        this.failedWrites++;
        this.logger?.error({ err, path: this.path }, `KV config ${what} not persisted; memory left as on disk`);
        return { ok: false, error: this.lastError };
      }
      this.table = next;
      if (this.lastError !== undefined) {
        this.logger?.info({ path: this.path }, 'KV config file writable again');
        this.lastError = undefined;
      }
      return { ok: true };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** The Java wrapper's JSON, keys sorted so the file diffs cleanly. */
export function serializeTable(table: ReadonlyMap<string, ReadonlyMap<string, string>>): string {
  const namespaces = [...table.keys()].sort().map((namespace) => {
    const kv = table.get(namespace)!;
    const items = [...kv.keys()].sort().map((key) => `${JSON.stringify(key)}:${JSON.stringify(kv.get(key))}`);
    return `${JSON.stringify(namespace)}:{${items.join(',')}}`;
  });
  return `{"configTable":{${namespaces.join(',')}}}`;
}

function parseTable(text: string): { ok: true; table: Table } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: false, error: 'the file is empty' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${errorMessage(err)}` };
  }
  if (!isPlainObject(json)) return { ok: false, error: 'expected a JSON object' };
  const configTable = json.configTable;
  const table: Table = new Map();
  // The Java wrapper writes `{}` when its table was never set.
  if (configTable === undefined || configTable === null) return { ok: true, table };
  if (!isPlainObject(configTable)) return { ok: false, error: 'configTable is not an object' };
  for (const [namespace, kv] of Object.entries(configTable)) {
    if (!isPlainObject(kv)) return { ok: false, error: `namespace ${JSON.stringify(namespace)} is not an object` };
    const items = new Map<string, string>();
    for (const [key, value] of Object.entries(kv)) {
      if (typeof value !== 'string') {
        return { ok: false, error: `value of ${JSON.stringify(namespace)}/${JSON.stringify(key)} is not a string` };
      }
      items.set(key, value);
    }
    table.set(namespace, items);
  }
  return { ok: true, table };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
