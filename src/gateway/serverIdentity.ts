import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerIdentity {
  name: 'xnamesrv';
  version: string;
  /**
   * New on every start. Stream sequence numbers restart with the process, so
   * a client resuming against another instance must be reset, not replayed.
   */
  instanceId: string;
}

export function createServerIdentity(): ServerIdentity {
  return { name: 'xnamesrv', version: readPackageVersion(), instanceId: randomUUID() };
}

/**
 * Sources run from src/ and builds from dist/src/, at different depths below
 * the package root, so the manifest is found by walking up.
 */
function readPackageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === 'xnamesrv' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no readable manifest here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
