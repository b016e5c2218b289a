import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack` (which builds through `prepack`),
 * the tarball unpacked into a scratch project, the README's embedding snippet
 * type-checked against the packed declarations and run with Node.
 *
 * Everything happens in a temporary directory: the pack runs on a copy of the
 * sources, so its build never rewrites the dist/ that other tests run from.
 * The scratch project gets the tarball's files exactly where `npm install`
 * puts them, and its dependencies as links into this repository's
 * node_modules: nothing is fetched, so the test needs no registry and
 * resolves the same versions every run. (ESM ignores NODE_PATH, hence links.)
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const SLOW = 60_000; // a full `npm test` shares two cores; alone this file takes a few seconds

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

let work: string;
/** The copy of the sources that was packed. */
let pkg: string;
let packed: PackResult;
let app: string;

/** Files under `base/dir`, as paths relative to `base` with forward slashes. */
function filesUnder(base: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(base, path).split(sep).join('/'));
    }
  };
  if (existsSync(join(base, dir))) walk(join(base, dir));
  return out;
}

/** The README's embedding snippet: the first ```js block after the "## Embedding" heading. */
function embeddingSnippet(readme: string): string {
  const section = readme.slice(readme.indexOf('\n## Embedding'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!section.startsWith('\n## Embedding') || !match)
    throw new Error('README.md has no "## Embedding" section with a ```js block');
  return match[1]!;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'xnamesrv-pack-'));
  pkg = join(work, 'pkg');
  mkdirSync(pkg);
  for (const name of readdirSync(root)) {
    if (
      ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json'].includes(name) ||
      /^(LICEN[CS]E|NOTICE)/i.test(name)
    ) {
      cpSync(join(root, name), join(pkg, name));
    }
  }
  cpSync(join(root, 'src'), join(pkg, 'src'), { recursive: true });
  cpSync(join(root, 'machines'), join(pkg, 'machines'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'junction');

  const env = {
    ...process.env,
    npm_config_ignore_scripts: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
  };
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: pkg,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  packed = (JSON.parse(stdout) as PackResult[])[0]!;

  app = join(work, 'app');
  const installed = join(app, 'node_modules', 'xnamesrv');
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  // The package's runtime dependencies, and what a TypeScript user has of their own (@types/node).
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'junction');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'embedder', private: true, type: 'module' }));
}, SLOW);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the built src/ and machines/ with declarations, the console page, README and package.json, nothing else', () => {
    // Expected from the copy that was packed (the tree may change meanwhile: others work in it).
    const expected = new Set(['package.json', 'README.md']);
    for (const name of readdirSync(pkg))
      if (/^(LICEN[CS]E|NOTICE)/i.test(name) && statSync(join(pkg, name)).isFile()) expected.add(name);
    for (const file of [...filesUnder(pkg, 'src'), ...filesUnder(pkg, 'machines')]) {
      if (file.startsWith('src/console/page/')) expected.add(file);
      else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
        expected.add(`dist/${file.replace(/\.ts$/, '.js')}`);
        expected.add(`dist/${file.replace(/\.ts$/, '.d.ts')}`);
      }
    }
    const shipped = packed.files.map((f) => f.path).sort();
    expect(shipped).toEqual([...expected].sort());
    expect(shipped.filter((path) => /(^|\/)(test|bench)\/|\.map$|\.test\.|(?<!\.d)\.ts$/.test(path))).toEqual([]);
  });

  it('the tarball holds exactly what npm listed', async () => {
    const { stdout } = await run('tar', ['-tzf', join(work, packed.filename)]);
    const entries = stdout
      .split('\n')
      .filter((line) => line !== '' && !line.endsWith('/'))
      .map((line) => line.replace(/^package\//, ''));
    expect(entries.sort()).toEqual(packed.files.map((f) => f.path).sort());
  });
});

describe('the installed package', () => {
  it(
    "runs the README's embedding snippet: starts, serves a route over the remoting protocol, stops",
    async () => {
      const snippet = embeddingSnippet(readFileSync(join(root, 'README.md'), 'utf8'));
      writeFileSync(join(app, 'embed.mjs'), snippet);
      const { stdout } = await run(process.execPath, ['embed.mjs'], { cwd: app, timeout: 20_000 });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ready 127\.0\.0\.1:\d+$/);
      expect(lines[0]).not.toBe('ready 127.0.0.1:9876');
      expect(lines.slice(1)).toEqual([
        'SimCluster-0|127.0.0.1:20911: null -> registered',
        'true broker-0-0',
        'true',
        'SimCluster-0|127.0.0.1:20911: registered -> unregistered',
        'nameServer: ready -> stopping.serving',
        'nameServer: stopping.serving -> stopped',
      ]);
    },
    SLOW,
  );

  it(
    'has types: the snippet type-checks against the packed declarations (strict, libraries checked too), and wrong options do not',
    async () => {
      const snippet = embeddingSnippet(readFileSync(join(root, 'README.md'), 'utf8'));
      writeFileSync(join(app, 'embed.ts'), snippet);
      writeFileSync(
        join(app, 'wrong.ts'),
        [
          "import { startNameServer, type NameServerOptions, type StartedNameServer } from 'xnamesrv';",
          '// @ts-expect-error a port is a number',
          "await startNameServer({ listenPort: '9876' });",
          '// @ts-expect-error no such key (keys are case-sensitive, as in the properties file)',
          'await startNameServer({ listenport: 9876 });',
          '// @ts-expect-error one of serve, refuse',
          "await startNameServer({ waitTimeoutAction: 'later' });",
          "export const options: NameServerOptions = { waitForBrokerNames: ['DefaultCluster/broker-a'], needWaitForService: true };",
          'export const port = (s: StartedNameServer): number => s.remotingPort;',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            types: ['node'],
            skipLibCheck: false,
          },
          files: ['embed.ts', 'wrong.ts'],
        }),
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).then(
        () => '',
        (err: { stdout?: string; message: string }) => err.stdout || err.message,
      );
      expect(result).toBe('');
    },
    SLOW,
  );

  it(
    'exports only its entry point (and package.json); the command line is its bin',
    async () => {
      const script = [
        "const deep = await import('xnamesrv/dist/src/nameServer.js').then(() => 'imported', (e) => e.code);",
        "const { default: manifest } = await import('xnamesrv/package.json', { with: { type: 'json' } });",
        "const api = await import('xnamesrv');",
        'console.log(deep, manifest.name, typeof api.startNameServer, typeof api.nameServerMachine.transition, typeof api.brokerMachine.transition);',
      ].join('\n');
      writeFileSync(join(app, 'exports.mjs'), script);
      const { stdout } = await run(process.execPath, ['exports.mjs'], { cwd: app });
      expect(stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED xnamesrv function function function');
      const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'xnamesrv', 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
      };
      const help = await run(
        process.execPath,
        [join(app, 'node_modules', 'xnamesrv', manifest.bin.xnamesrv!), '--help'],
        { cwd: app },
      );
      expect(help.stdout).toContain('Usage: xnamesrv');
    },
    SLOW,
  );
});
