import { formatProperties } from './properties.js';
import { configEntries, type NamesrvOptions } from './schema.js';

/**
 * The effective configuration as sorted `key=value` lines, secrets shown as
 * ******, like `mqnamesrv -p` lists its items. The output is valid properties
 * text, so it can seed a config file (a masked secret is refused on load, not
 * taken as a token).
 */
export function formatEffectiveConfig(config: NamesrvOptions): string {
  return formatProperties(configEntries(config, { maskSecrets: true }));
}
