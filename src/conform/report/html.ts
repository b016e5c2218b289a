import { countsOf, type ConformReport, type PathRecord } from '../results.js';
import type { ChartAssets } from './chartAssets.js';
import { REPORT_CSS, REPORT_SCRIPT } from './htmlPage.js';
import { summaryLine } from './terminal.js';

/**
 * The HTML report: one self-contained file (no request leaves it: styles,
 * data, elkjs and the console's chart code are all inside). The text is
 * written here, so it reads without JavaScript; the script then draws each
 * path on its chart, states and arrows coloured by what the path found there.
 * Failed paths and known divergences start open.
 */
const LABEL: Record<PathRecord['verdict'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  skip: 'SKIPPED',
  divergence: 'DIVERGENCE',
};

export function formatHtml(report: ConformReport, assets: ChartAssets | { unavailable: string }): string {
  const counts = countsOf(report.paths);
  const title = `xnamesrv conform: ${report.target.description}`;
  const charts = 'elk' in assets;
  const profile = report.profile;
  const parts: string[] = [];
  parts.push('<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<title>${esc(title)}</title>`);
  parts.push(
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<style>${REPORT_CSS}</style>`,
    '</head>',
  );
  parts.push(
    `<body data-charts="${charts ? 'loading' : esc(`unavailable: ${assets.unavailable}`)}" data-failed="${counts.fail}">`,
  );
  parts.push('<header>', `<h1>${esc(title)}</h1>`);
  parts.push(`<p class="summary-line">${esc(summaryLine(report))}</p>`);
  parts.push(
    `<p class="muted">${esc(`${report.tool.name} ${report.tool.version}, run ${report.run.runId} (cluster ${report.run.clusterName}), ${report.run.startedAt}, ${report.run.clock} time`)}</p>`,
  );
  parts.push(
    `<p class="muted">${esc(`target: ${profile.kind}${profile.version ? ` ${profile.version.name}` : ''}, because ${profile.detectedFrom}; refresh by ${profile.refresh}`)}</p>`,
  );
  parts.push(`<p class="muted">${esc(`lifecycle: ${report.lifecycle}`)}</p>`);
  for (const note of report.notes) parts.push(`<p class="muted">${esc(`note: ${note}`)}</p>`);
  parts.push(
    '<p class="legend">',
    ...(['pass', 'fail', 'divergence', 'skip'] as const).map(
      (v) =>
        `<span class="v-${v}"><i class="v-${v}"></i>${v === 'skip' ? 'skipped or not run' : v === 'divergence' ? 'known divergence' : v}</span>`,
    ),
    '</p>',
  );
  parts.push(
    `<p id="charts-note" class="muted">${charts ? 'Each path is drawn on its chart when opened: the states it reached and the arrows it took, coloured by verdict.' : esc(`The charts are not in this report (${assets.unavailable}); each path is listed step by step.`)}</p>`,
  );
  parts.push('</header>');

  parts.push(
    '<h2>Paths</h2>',
    '<table id="summary">',
    '<thead><tr><th>verdict</th><th>path</th><th>steps</th><th>time</th></tr></thead>',
    '<tbody>',
  );
  for (const path of report.paths) {
    const passed = path.steps.filter((s) => s.verdict === 'pass').length;
    parts.push(
      `<tr class="v-${path.verdict}" data-path-id="${esc(path.id)}"><td><span class="verdict v-${path.verdict}">${LABEL[path.verdict]}</span></td>` +
        `<td><a href="#path-${esc(path.id)}">${esc(path.name)}</a></td><td class="num">${path.steps.length ? `${passed}/${path.steps.length}` : ''}</td>` +
        `<td class="num">${path.durationMs || path.targetMs ? `${(Math.max(path.durationMs, path.targetMs) / 1000).toFixed(1)} s` : ''}</td></tr>`,
    );
  }
  parts.push('</tbody>', '</table>');

  for (const group of ['lifecycle', 'protocol', 'broker'] as const) {
    const paths = report.paths.filter((p) => p.group === group);
    if (paths.length === 0) continue;
    parts.push(
      `<h2>${group === 'lifecycle' ? 'Lifecycle (the name server chart)' : group === 'broker' ? 'Broker registrations (the broker chart)' : 'Protocol checks'}</h2>`,
    );
    for (const path of paths) parts.push(pathSection(path));
  }
  if (report.cleanup) {
    parts.push(
      '<h2>Clean-up</h2>',
      `<p class="${report.cleanup.verified ? '' : 'problem'}">${esc(report.cleanup.verified ? `${report.cleanup.brokers} brokers registered by the run were unregistered and disconnected; cluster info shows none of them.` : `Left behind: ${report.cleanup.detail ?? 'brokers of the run'}`)}</p>`,
    );
  }

  parts.push(`<script type="application/json" id="conform-report">${scriptJson(report)}</script>`);
  if (charts) {
    parts.push(`<script type="application/json" id="conform-machines">${scriptJson(assets.machines)}</script>`);
    parts.push(`<script type="application/json" id="conform-chart-modules">${scriptJson(assets.modules)}</script>`);
    parts.push(`<script>${scriptText(assets.elk)}</script>`);
    parts.push(`<script type="module">${scriptText(REPORT_SCRIPT)}</script>`);
  }
  parts.push('</body>', '</html>');
  return parts.join('\n') + '\n';
}

function pathSection(path: PathRecord): string {
  const open = path.verdict === 'fail' || path.verdict === 'divergence' ? ' open' : '';
  const lines = [
    `<details class="path v-${path.verdict}" id="path-${esc(path.id)}" data-path-id="${esc(path.id)}"${path.machineId ? ` data-machine="${path.machineId}"` : ''}${open}>`,
    `<summary><span class="verdict v-${path.verdict}">${LABEL[path.verdict]}</span> ${esc(path.name)}</summary>`,
    `<p class="muted">${esc(`${path.id} · ${path.origin}${path.readOnly ? ' · read-only' : ''}`)}</p>`,
  ];
  if (path.reason) lines.push(`<p class="reason">${esc(path.reason)}</p>`);
  if (path.machineId) lines.push('<div class="chart"></div>');
  lines.push('<ol class="steps" start="0">');
  for (const step of path.steps) {
    const verdict = step.verdict === 'not-run' ? 'skip' : step.verdict;
    lines.push(
      `<li class="v-${verdict}" data-step="${step.index}">${esc(`${step.from ?? '(start)'} → ${step.to}: ${step.action}`)}${step.verdict === 'not-run' ? ' <span class="muted">(not run)</span>' : ''}` +
        `${step.detail ? `<div class="detail">${esc(step.detail)}</div>` : ''}</li>`,
    );
  }
  lines.push('</ol>', '</details>');
  return lines.join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON inside <script>: `<` escaped, so no text in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Script text inside <script>: nothing in it may read as the element's end or as a comment opener. */
function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
