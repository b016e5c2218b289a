import type { Logger } from 'pino';
import { writeFileAtomic, type WriteFileAtomicOptions } from '../util/atomicFile.js';
import { errorMessage } from '../util/errorMessage.js';
import { formatProperties, parseProperties } from './properties.js';
import {
  ALWAYS_BLACK_LISTED,
  CONFIG_KEYS,
  configEntries,
  formatConfigValue,
  freezeOptions,
  isConfigKey,
  keyDef,
  parseConfigValue,
  type ConfigKey,
  type ConfigValue,
  type NamesrvOptions,
} from './schema.js';
import { checkCombination } from './validate.js';

/** The remark the Java name server answers a black-listed update with (DefaultRequestProcessor). */
export const BLACK_LIST_REMARK = 'Can not update config in black list.';

export type ConfigUpdateResult =
  | { ok: true; changed: ConfigKey[] }
  | {
      ok: false;
      remark: string;
      /** True when refused for a black-listed key (Java answers NO_PERMISSION). */
      blackListed: boolean;
    };

export type ConfigChangeListener = (
  next: NamesrvOptions,
  changed: readonly ConfigKey[],
  previous: NamesrvOptions,
) => void;

export type ConfigFileWriter = (path: string, data: string, options?: WriteFileAtomicOptions) => Promise<void>;

export interface RuntimeConfigOptions {
  /** Replaces writeFileAtomic (tests inject failures here). */
  writeFile?: ConfigFileWriter;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

/**
 * The live configuration. Reads are plain (`get()` returns an immutable
 * snapshot); UPDATE_NAMESRV_CONFIG goes through `update`, which validates the
 * whole request, persists the resulting configuration and only then makes it
 * live, so the running server and configStorePath never disagree.
 */
export class RuntimeConfig {
  private current: NamesrvOptions;
  private readonly listeners = new Set<ConfigChangeListener>();
  private readonly writeFile: ConfigFileWriter;
  private readonly logger: Pick<Logger, 'warn' | 'error'> | undefined;
  // Updates run one at a time: each must validate against, and persist on
  // top of, the result of the one before.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(initial: NamesrvOptions, options: RuntimeConfigOptions = {}) {
    this.current = freezeOptions(initial);
    this.writeFile = options.writeFile ?? writeFileAtomic;
    this.logger = options.logger;
  }

  get(): NamesrvOptions {
    return this.current;
  }

  /** GET_NAMESRV_CONFIG body: every key, sorted, secrets masked. */
  /** `shown` replaces values for display only (the ports actually bound when configured as 0). */
  toPropertiesText(shown: Partial<NamesrvOptions> = {}): string {
    return formatProperties(configEntries({ ...this.current, ...shown }, { maskSecrets: true }));
  }

  /** Keys UPDATE_NAMESRV_CONFIG refuses: the fixed ones plus the configBlackList value. */
  blackList(): ReadonlySet<string> {
    const keys = new Set<string>(ALWAYS_BLACK_LISTED);
    for (const key of this.current.configBlackList.split(';')) {
      if (key.trim() !== '') keys.add(key.trim());
    }
    return keys;
  }

  /** Called after each update that changed something; returns an unsubscribe function. */
  onChange(listener: ConfigChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Applies UPDATE_NAMESRV_CONFIG properties text, all or nothing: any
   * black-listed, unknown, start-up-only or invalid key refuses the whole
   * request, and a failure to persist leaves the live configuration as it was.
   */
  update(propertiesText: string): Promise<ConfigUpdateResult> {
    const run = this.tail.then(() => this.applyUpdate(propertiesText));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async applyUpdate(propertiesText: string): Promise<ConfigUpdateResult> {
    const parsed = parseProperties(propertiesText);
    if (!parsed.ok) {
      const detail = parsed.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ');
      return { ok: false, remark: `invalid properties text: ${detail}`, blackListed: false };
    }

    const blackList = this.blackList();
    if ([...parsed.values.keys()].some((key) => blackList.has(key))) {
      return { ok: false, remark: BLACK_LIST_REMARK, blackListed: true };
    }

    const problems: string[] = [];
    const updates = new Map<ConfigKey, ConfigValue>();
    for (const [key, raw] of parsed.values) {
      if (!isConfigKey(key)) {
        problems.push(`unknown key ${JSON.stringify(key)}`);
        continue;
      }
      if (!keyDef(key).runtimeUpdatable) {
        problems.push(`${key} cannot be changed at runtime; set it in the config file and restart`);
        continue;
      }
      const value = parseConfigValue(key, raw);
      if (value.ok) updates.set(key, value.value);
      else problems.push(`${key}: ${value.message}`);
    }
    if (problems.length > 0) return { ok: false, remark: problems.join('; '), blackListed: false };

    const previous = this.current;
    const candidate: Record<string, unknown> = { ...previous };
    for (const [key, value] of updates) candidate[key] = value;
    const next = freezeOptions(candidate as NamesrvOptions);
    const combination = checkCombination(next, (key) => (updates.has(key) ? 'this update' : 'current value'));
    if (combination.length > 0) return { ok: false, remark: combination.join('; '), blackListed: false };

    const changed = [...updates.keys()]
      .filter((key) => formatConfigValue(previous[key]) !== formatConfigValue(next[key]))
      .sort();
    if (changed.length === 0) return { ok: true, changed };

    const path = next.configStorePath;
    try {
      // The stored file is what a restart with -c reads back, so secrets go in
      // clear; keep such a file to its owner.
      const holdsSecret = CONFIG_KEYS.some((info) => info.secret === true && next[info.name] !== '');
      await this.writeFile(
        path,
        formatProperties(configEntries(next, { maskSecrets: false })),
        holdsSecret ? { mode: 0o600 } : {},
      );
    } catch (err) {
      const reason = errorMessage(err);
      this.logger?.error({ err, path }, 'name server config not persisted; update refused');
      return { ok: false, remark: `config not persisted to ${path}, nothing changed: ${reason}`, blackListed: false };
    }

    this.current = next;
    for (const listener of this.listeners) {
      try {
        listener(next, changed, previous);
      } catch (err) {
        // The update is already durable and live; one failing reaction must
        // not hide it from the other listeners.
        this.logger?.error({ err, changed }, 'config change listener failed');
      }
    }
    return { ok: true, changed };
  }
}
