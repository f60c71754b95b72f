// The ops page: lag per group and topic over the last minutes (uPlot), and each group's status
// with its worst partitions; it refreshes itself every LAG_POLL_MS.
export function pageHtml(refreshMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Consumer lag: booking pipeline</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1d2733; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  .meta { color: #5b6775; margin-bottom: 1rem; }
  .group { border: 1px solid #d5dbe1; border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
  .group h2 { font-size: 1rem; margin: 0 0 .5rem; display: flex; gap: .6rem; align-items: center; }
  .badge { font-size: .75rem; padding: .1rem .5rem; border-radius: 3px; color: #fff; }
  .OK { background: #2e7d32; } .WARN { background: #ed6c02; } .REWIND { background: #6a1b9a; }
  .STALL { background: #c62828; } .STOP { background: #4e0000; }
  table.partitions { border-collapse: collapse; font-size: .85rem; margin-top: .5rem; }
  .partitions td, .partitions th { padding: .15rem .6rem; text-align: right; border-bottom: 1px solid #eef1f4; }
  .partitions th:first-child, .partitions td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Consumer lag</h1>
<div class="meta" id="meta">loading…</div>
<div id="groups"></div>
<script src="/assets/uPlot.iife.min.js"></script>
<script>
const REFRESH_MS = ${refreshMs};
const charts = new Map();
const palette = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#c62828', '#00838f', '#5d4037', '#9e9d24'];

function section(group) {
  let el = document.getElementById('g-' + group);
  if (el) return el;
  el = document.createElement('div');
  el.className = 'group';
  el.id = 'g-' + group;
  el.innerHTML = '<h2><span class="name"></span><span class="badge"></span><span class="sum"></span></h2><div class="chart"></div><table class="partitions"></table>';
  el.querySelector('.name').textContent = group;
  document.getElementById('groups').appendChild(el);
  return el;
}

function draw(group, series) {
  const topics = Object.keys(series).sort();
  const times = [...new Set(topics.flatMap((t) => series[t].map((p) => p[0])))].sort((a, b) => a - b);
  const data = [times.map((t) => t / 1000), ...topics.map((t) => {
    const m = new Map(series[t]);
    return times.map((x) => m.has(x) ? m.get(x) : null);
  })];
  const key = group + '|' + topics.join(',');
  const el = section(group).querySelector('.chart');
  if (!charts.has(key)) {
    el.innerHTML = '';
    const opts = {
      width: Math.min(window.innerWidth - 80, 1100), height: 180,
      series: [{}, ...topics.map((t, i) => ({ label: t, stroke: palette[i % palette.length], width: 2 }))],
      axes: [{}, { label: 'records behind' }],
      scales: { x: { time: true } },
    };
    charts.set(key, new uPlot(opts, data, el));
  } else charts.get(key).setData(data);
}

async function refresh() {
  try {
    const [status, history] = await Promise.all([
      fetch('/status').then((r) => r.json()),
      fetch('/history').then((r) => r.json()),
    ]);
    document.getElementById('meta').textContent =
      status.groups.length + ' groups, read ' + new Date(status.at).toLocaleTimeString() + '; refreshes every ' + REFRESH_MS / 1000 + ' s';
    for (const g of status.groups) {
      const el = section(g.group);
      const badge = el.querySelector('.badge');
      badge.textContent = g.status;
      badge.className = 'badge ' + g.status;
      el.querySelector('.sum').textContent = g.sumLag + ' behind, max ' + g.maxLagSeconds.toFixed(1) + ' s';
      const series = {};
      for (const [k, v] of Object.entries(history)) if (k.startsWith(g.group + ' ')) series[k.slice(g.group.length + 1)] = v;
      draw(g.group, series);
      const rows = g.partitions.filter((p) => p.lag).sort((a, b) => b.lag - a.lag).slice(0, 6);
      el.querySelector('table.partitions').innerHTML = rows.length
        ? '<tr><th>topic</th><th>partition</th><th>committed</th><th>end</th><th>lag</th><th>seconds</th><th>status</th></tr>' +
          rows.map((p) => '<tr><td>' + p.topic + '</td><td>' + p.partition + '</td><td>' + p.committed + '</td><td>' + p.end +
            '</td><td>' + p.lag + '</td><td>' + (p.lagSeconds == null ? '–' : p.lagSeconds.toFixed(1)) + '</td><td>' + p.status + '</td></tr>').join('')
        : '';
    }
  } catch (err) {
    document.getElementById('meta').textContent = 'cannot read the lag service: ' + err;
  }
}
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>`;
}
