import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';

/** One file the console serves, held in memory in every encoding a browser may ask for. */
export interface ConsoleAsset {
  contentType: string;
  etag: string;
  /** Page files are revalidated on every load (ETag); vendored libraries change only with the package. */
  cacheControl: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Files that belong to the page's sources but are not served. */
const NOT_SERVED = new Set(['tsconfig.json']);

/**
 * The console's files: every file of src/console/page (served as-is: the
 * page is plain ES modules, so there is no build step to go stale) and
 * elkjs's browser bundle, read and compressed once. Nothing is fetched from
 * anywhere else, so the console works on an air-gapped network.
 */
export async function loadConsoleAssets(pageDir = consolePageDir()): Promise<Map<string, ConsoleAsset>> {
  const assets = new Map<string, ConsoleAsset>();
  for (const file of filesUnder(pageDir)) {
    const name = relative(pageDir, file).split(sep).join('/');
    if (NOT_SERVED.has(name)) continue;
    assets.set(name, await assetOf(readFileSync(file), contentTypeOf(file), 'no-cache'));
  }
  const elk = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
  assets.set('vendor/elk.bundled.js', await assetOf(readFileSync(elk), CONTENT_TYPES['.js']!, 'public, max-age=86400'));
  return assets;
}

/** src/console/page of this package, whether running from src/ (tests) or dist/src/ (the CLI). */
export function consolePageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'src', 'console', 'page');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('the console page directory (src/console/page) is missing from this installation');
    dir = parent;
  }
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * Brotli's best quality takes seconds on the 1.6 MB layout library; quality
 * 5 takes tens of milliseconds for nearly the same size. Both encodings run
 * on libuv's thread pool, so serving the first page never stalls the event
 * loop that answers route reads.
 */
const BROTLI_BEST_QUALITY_UP_TO = 128 * 1024;

async function assetOf(content: Buffer, contentType: string, cacheControl: string): Promise<ConsoleAsset> {
  const quality = content.length <= BROTLI_BEST_QUALITY_UP_TO ? zlibConstants.BROTLI_MAX_QUALITY : 5;
  const [gzipped, brotli] = await Promise.all([
    gzipAsync(content, { level: 9 }),
    brotliAsync(content, {
      params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: content.length },
    }),
  ]);
  return {
    contentType,
    etag: `"${createHash('sha256').update(content).digest('base64url').slice(0, 27)}"`,
    cacheControl,
    identity: content,
    gzip: gzipped,
    br: brotli,
  };
}

function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function* filesUnder(dir: string): Iterable<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}
