import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix } from 'node:path';
import { brokerMachine } from '../../../machines/broker.js';
import { nameServerMachine } from '../../../machines/nameServer.js';
import { consolePageDir } from '../../console/consoleAssets.js';
import { exportMachineConfig, type MachineConfigJson } from '../../observe/machineConfig.js';
import { errorMessage } from '../../util/errorMessage.js';

/**
 * What the HTML report needs to draw the charts, read once when it is
 * written: the console's own chart code (src/console/page/chart: the machine
 * graph, the ELK layout, the SVG drawing, the arrow a step took), which
 * conform reuses unchanged, elkjs's browser bundle, and the two charts as the
 * machine configs /machines serves. All of it goes into the report file, so
 * the report opens anywhere, offline, years later.
 */
export interface ChartAssets {
  /**
   * elkjs's bundled build, a classic script defining the global ELK. The
   * layout runs on the page's thread with it: the chart modules run from blob
   * URLs, which no relative worker URL resolves against, so chartLayout.js
   * takes its no-worker way.
   */
  elk: string;
  /** Console page modules by path under src/console/page, the entries and everything they import. */
  modules: Record<string, string>;
  machines: Record<'broker' | 'nameServer', MachineConfigJson>;
}

export const CHART_ENTRIES = [
  'chart/machineGraph.js',
  'chart/chartLayout.js',
  'chart/chartSvg.js',
  'chart/transitionMatch.js',
] as const;

/** The assets, or why the charts cannot be drawn (an installation without the console page). */
export function loadChartAssets(): ChartAssets | { unavailable: string } {
  let pageDir: string;
  try {
    pageDir = consolePageDir();
  } catch (err) {
    return { unavailable: errorMessage(err) };
  }
  const modules: Record<string, string> = {};
  const pending: string[] = [...CHART_ENTRIES];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (path in modules) continue;
    const file = join(pageDir, ...path.split('/'));
    if (!existsSync(file)) return { unavailable: `the console's chart module ${path} is missing from ${pageDir}` };
    const source = readFileSync(file, 'utf8');
    modules[path] = source;
    for (const specifier of relativeImports(source))
      pending.push(posix.normalize(posix.join(posix.dirname(path), specifier)));
  }
  const elk = readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'), 'utf8');
  return {
    elk,
    modules,
    machines: {
      broker: exportMachineConfig(brokerMachine).config,
      nameServer: exportMachineConfig(nameServerMachine).config,
    },
  };
}

/** `./x.js` and `../lib/y.js` in static imports (`from '…'`) and bare `import '…'`. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*)(['"])(\.{1,2}\/[^'"]+)\1/g)) found.push(match[2]!);
  return found;
}
