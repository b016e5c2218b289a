/**
 * The browser side of the HTML report: its style and the script that draws
 * each path on its chart with the console's chart modules (loaded from the
 * report itself as blob modules, their relative imports rewritten). Plain
 * JavaScript in a string, with no template literals or `${`, so it passes
 * through this file unchanged.
 *
 * The page marks its state on <body data-charts>: "ready" once every open
 * path is drawn, "unavailable: <why>" when the charts cannot be drawn (the
 * rest of the report still reads without them).
 */
export const REPORT_CSS = `
:root { --pass: #1a7f37; --fail: #cf222e; --divergence: #9a6700; --skip: #8c959f; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 64px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
p { margin: 4px 0; }
.muted { color: var(--muted); }
.summary-line { font-size: 15px; font-weight: 600; margin: 10px 0; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 5px; vertical-align: -1px; }
.verdict { display: inline-block; min-width: 88px; font-weight: 700; font-size: 12px; letter-spacing: .04em; }
.verdict.v-pass, .legend .v-pass { color: var(--pass); } .legend i.v-pass { background: var(--pass); }
.verdict.v-fail, .legend .v-fail { color: var(--fail); } .legend i.v-fail { background: var(--fail); }
.verdict.v-divergence, .legend .v-divergence { color: var(--divergence); } .legend i.v-divergence { background: var(--divergence); }
.verdict.v-skip, .legend .v-skip { color: var(--skip); } .legend i.v-skip { background: var(--skip); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
a { color: inherit; }
details.path { border: 1px solid var(--line); border-left: 4px solid var(--skip); border-radius: 6px; margin: 10px 0; padding: 6px 12px; }
details.path.v-pass { border-left-color: var(--pass); } details.path.v-fail { border-left-color: var(--fail); } details.path.v-divergence { border-left-color: var(--divergence); }
details.path > summary { cursor: pointer; }
.reason { margin: 6px 0; white-space: pre-wrap; }
ol.steps { margin: 8px 0; padding-left: 28px; font-size: 13px; }
ol.steps li { margin: 2px 0; }
ol.steps li.v-fail { color: var(--fail); } ol.steps li.v-divergence { color: var(--divergence); } ol.steps li.v-skip { color: var(--skip); }
ol.steps .detail { white-space: pre-wrap; margin-left: 12px; }
.chart { overflow-x: auto; margin: 8px 0; }
.chart-svg { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.chart-svg .state-box { fill: #fff; stroke: #afb8c1; stroke-width: 1.5; }
.chart-svg .state.kind-machine > .state-box, .chart-svg .state.kind-compound > .state-box { fill: #f6f8fa; }
.chart-svg .state-final-ring { fill: none; stroke: #afb8c1; }
.chart-svg .state-title { font: 600 13px system-ui, sans-serif; fill: var(--ink); }
.chart-svg .state-note { font: 11px ui-monospace, Menlo, Consolas, monospace; fill: var(--muted); }
.chart-svg .state-tag rect { fill: #eaeef2; } .chart-svg .state-tag text { font: 10px system-ui, sans-serif; fill: var(--muted); }
.chart-svg .edge-path { fill: none; stroke: #afb8c1; stroke-width: 1.5; }
.chart-svg .arrowhead path { fill: #afb8c1; }
.chart-svg .edge-label rect { fill: #fff; stroke: #d8dee4; }
.chart-svg .edge-label text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.chart-svg .initial-dot { fill: var(--ink); }
.chart-svg .state.v-pass > .state-box { stroke: var(--pass); stroke-width: 3; }
.chart-svg .state.v-fail > .state-box { stroke: var(--fail); stroke-width: 3.5; fill: #ffebe9; }
.chart-svg .state.v-divergence > .state-box { stroke: var(--divergence); stroke-width: 3.5; }
.chart-svg .state.v-skip > .state-box { stroke: var(--skip); stroke-width: 2.5; stroke-dasharray: 5 3; }
.chart-svg .edge.v-pass .edge-path { stroke: var(--pass); stroke-width: 3; }
.chart-svg .edge.v-fail .edge-path { stroke: var(--fail); stroke-width: 3.5; }
.chart-svg .edge.v-divergence .edge-path { stroke: var(--divergence); stroke-width: 3.5; }
.chart-svg .edge.v-skip .edge-path { stroke: var(--skip); stroke-width: 2.5; stroke-dasharray: 5 3; }
.chart-svg .edge-label.v-pass rect { stroke: var(--pass); } .chart-svg .edge-label.v-fail rect { stroke: var(--fail); }
.chart-svg .edge-label.v-divergence rect { stroke: var(--divergence); } .chart-svg .edge-label.v-skip rect { stroke: var(--skip); stroke-dasharray: 4 2; }
.problem { color: var(--fail); }
`;

export const REPORT_SCRIPT = `
const json = function (id) { return JSON.parse(document.getElementById(id).textContent); };
const report = json('conform-report');
const RANK = { fail: 4, divergence: 3, pass: 2, skip: 1 };

function resolvePath(from, specifier) {
  const parts = from.split('/').slice(0, -1);
  for (const segment of specifier.split('/')) {
    if (segment === '..') parts.pop();
    else if (segment !== '.') parts.push(segment);
  }
  return parts.join('/');
}

function moduleLoader(sources) {
  const urls = new Map();
  const urlOf = function (path) {
    if (urls.has(path)) return urls.get(path);
    if (!(path in sources)) throw new Error('chart module ' + path + ' is not in the report');
    const code = sources[path].replace(/(\\bfrom\\s*|\\bimport\\s*)(['"])(\\.{1,2}\\/[^'"]+)\\2/g, function (_all, keyword, quote, specifier) {
      return keyword + quote + urlOf(resolvePath(path, specifier)) + quote;
    });
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    urls.set(path, url);
    return url;
  };
  return function (path) { return import(urlOf(path)); };
}

/** Which chart element each step touched, with the worst verdict it had there. */
function verdictsOf(path, graph, matchTransition) {
  const marks = new Map();
  const mark = function (key, verdict) {
    const before = marks.get(key);
    if (!before || RANK[verdict] > RANK[before]) marks.set(key, verdict);
  };
  for (const step of path.steps) {
    const verdict = path.verdict === 'skip' || step.verdict === 'not-run' ? 'skip' : step.verdict;
    mark('state:' + graph.machineId + '.' + step.to, verdict);
    for (const id of matchTransition(graph, { from: step.from, to: step.to, event: step.eventType })) mark('edge:' + id, verdict);
  }
  return marks;
}

async function drawCharts() {
  const assets = document.getElementById('conform-chart-modules');
  if (!assets || typeof ELK === 'undefined') throw new Error('the report was written without the chart code');
  const load = moduleLoader(JSON.parse(assets.textContent));
  const machines = json('conform-machines');
  const graphModule = await load('chart/machineGraph.js');
  const layoutModule = await load('chart/chartLayout.js');
  const svgModule = await load('chart/chartSvg.js');
  const matchModule = await load('chart/transitionMatch.js');
  const measure = layoutModule.canvasMeasure();
  const charts = new Map();
  const chartOf = async function (machineId) {
    if (!charts.has(machineId)) {
      const graph = graphModule.machineGraph(machines[machineId]);
      charts.set(machineId, { graph: graph, layout: layoutModule.layoutChart(graph, measure, { direction: 'DOWN' }) });
    }
    const chart = charts.get(machineId);
    return { graph: chart.graph, layout: await chart.layout };
  };
  const byId = new Map(report.paths.map(function (p) { return [p.id, p]; }));
  const draw = async function (details) {
    if (details.dataset.drawn) return;
    details.dataset.drawn = 'yes';
    const path = byId.get(details.dataset.pathId);
    const container = details.querySelector('.chart');
    if (!path || !path.machineId || !container) return;
    const chart = await chartOf(path.machineId);
    const svg = new svgModule.ChartSvg(chart.graph, chart.layout, measure);
    const marks = verdictsOf(path, chart.graph, matchModule.matchTransition);
    for (const element of svg.element.querySelectorAll('[data-state-id]')) {
      const verdict = marks.get('state:' + element.getAttribute('data-state-id'));
      if (verdict) element.classList.add('v-' + verdict);
    }
    for (const element of svg.element.querySelectorAll('[data-transition-id]')) {
      const verdict = marks.get('edge:' + element.getAttribute('data-transition-id'));
      if (verdict) element.classList.add('v-' + verdict);
    }
    container.replaceChildren(svg.element);
  };
  const all = Array.from(document.querySelectorAll('details.path[data-path-id]'));
  for (const details of all) details.addEventListener('toggle', function () { if (details.open) draw(details); });
  for (const details of all) if (details.open) await draw(details);
}

drawCharts().then(
  function () { document.body.dataset.charts = 'ready'; },
  function (error) {
    document.body.dataset.charts = 'unavailable: ' + (error && error.message ? error.message : String(error));
    const note = document.getElementById('charts-note');
    if (note) note.textContent = 'The charts cannot be drawn here (' + document.body.dataset.charts.slice(13) + '); each path is still listed step by step.';
  },
);
`;
