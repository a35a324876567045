/**
 * What the HTML report carries inline: uPlot (read from the installed package), the stylesheet and
 * the browser script that draws the charts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Asset {
  js: string;
  css: string;
  version: string;
}

let uplot: Asset | undefined;

/**
 * uPlot's IIFE build and stylesheet, read from the installed package. The banner's repository URL
 * becomes plain text (the file must not carry a single external URL); a `</` that could end the
 * inline element is split.
 */
export function uplotAsset(): Asset {
  if (uplot) return uplot;
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot'));
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  const js = readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8')
    .replace(/https?:\/\/(github\.com\/leeoniya\/uPlot)/g, '$1')
    .replace(/<\/(script)/gi, '<\\/$1');
  const css = readFileSync(join(dist, 'uPlot.min.css'), 'utf8').replace(/<\/(style)/gi, '<\\/$1');
  uplot = { js, css, version: pkg.version };
  return uplot;
}

export const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--unk:#9a6700;--err:#8250df;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:0 20px 40px}
header.verdict{display:flex;gap:20px;align-items:center;padding:18px 20px;margin:0 -20px;border-bottom:4px solid var(--muted);background:var(--bg)}
header.v-pass{border-color:var(--pass)}header.v-fail{border-color:var(--fail)}header.v-error{border-color:var(--err)}header.v-interrupted{border-color:var(--unk)}
.badge{font-weight:700;font-size:22px;color:#fff;padding:10px 16px;border-radius:6px;background:var(--muted);letter-spacing:.05em}
.v-pass .badge{background:var(--pass)}.v-fail .badge{background:var(--fail)}.v-error .badge{background:var(--err)}.v-interrupted .badge{background:var(--unk)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 8px}
.head p{margin:2px 0}.verdict-line{font-weight:600}.facts,.describe,.help,.note{color:var(--muted)}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:130px}.tile .k{color:var(--muted);font-size:12px}.tile .v{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}
.alert{padding:10px 14px;border-radius:6px;margin:10px 0;border:1px solid}.alert.error{border-color:var(--fail);background:#ffebe9}
table{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:5px 10px;text-align:left;vertical-align:top}th{background:var(--bg);font-weight:600}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}table.kv thead{display:none}table.kv td:first-child{color:var(--muted)}
table.targets td{max-width:420px}
.status{display:inline-block;font-weight:700;font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;white-space:nowrap}
.s-pass{background:var(--pass)}.s-fail{background:var(--fail)}.s-unknown{background:var(--unk)}.s-off{background:#888}
.desc,.seed{color:var(--muted);font-size:12px}
blockquote{margin:4px 0 0;padding:2px 10px;border-left:3px solid var(--line);font-style:italic}
.bad{color:var(--fail)}
figure.chart{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
.plot{min-height:40px}.plot .chart-error{color:var(--fail)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:0 24px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:var(--bg);padding:1px 4px;border-radius:4px}
footer{color:var(--muted);font-size:12px;margin-top:30px}
`;

/**
 * The browser side: draws every chart in the embedded data with uPlot. Chart failures are shown in
 * place and counted on `<body data-charts-rendered data-chart-errors>` (what the headless-browser
 * check reads).
 */
export const CLIENT_JS = `
(function(){
  var data = JSON.parse(document.getElementById('wsbench-data').textContent);
  var COLORS = ['#0969da','#1a7f37','#cf222e','#8250df','#bf8700','#1b7c83','#e16f24','#6e7781','#d63384','#57606a'];
  var PHASE = ['rgba(9,105,218,0.06)','rgba(130,80,223,0.07)'];
  var rendered = 0, errors = [];
  function ninesLabel(x){ var p = 100*(1-Math.pow(10,-x)); var d = Math.max(0, Math.ceil(x-1e-9)-2); return (+p.toFixed(d)) + '%'; }
  function compact(v){ if (v == null) return ''; var a = Math.abs(v); if (a >= 1e9) return +(v/1e9).toFixed(1) + 'G'; if (a >= 1e6) return +(v/1e6).toFixed(1) + 'M'; if (a >= 1e4) return +(v/1e3).toFixed(1) + 'k'; return String(+v.toFixed(3)); }
  function num(v){ if (v == null) return '--'; var a = Math.abs(v); return a >= 1000 ? Math.round(v).toLocaleString('en-US') : a >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function marks(spec){
    return { hooks: { drawClear: [function(u){
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11*dpr) + 'px system-ui,sans-serif';
      spec.bands.forEach(function(b, i){
        var x0 = u.valToPos(b.from,'x',true), x1 = u.valToPos(b.to,'x',true);
        ctx.fillStyle = b.kind === 'fault' ? 'rgba(207,34,46,0.13)' : b.kind === 'stall' ? 'rgba(191,135,0,0.22)' : PHASE[i % 2];
        ctx.fillRect(x0, top, x1 - x0, h);
        ctx.fillStyle = b.kind === 'fault' ? '#cf222e' : b.kind === 'stall' ? '#9a6700' : '#57606a';
        ctx.fillText(b.label, x0 + 3*dpr, top + 12*dpr);
      });
      ctx.restore();
    }], draw: [function(u){
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11*dpr) + 'px system-ui,sans-serif';
      spec.lines.forEach(function(l){
        var x = u.valToPos(l.at,'x',true);
        ctx.strokeStyle = l.outcome === 'fail' ? '#cf222e' : l.outcome === 'unknown' ? '#9a6700' : '#bf3989';
        ctx.lineWidth = 2*dpr; ctx.setLineDash([6*dpr,4*dpr]);
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        var text = l.label + (l.outcome ? ' (' + l.outcome + ')' : '');
        // Near the right edge the label goes on the line's left.
        var right = x + 3*dpr + ctx.measureText(text).width > u.bbox.left + u.bbox.width;
        ctx.textAlign = right ? 'right' : 'left';
        ctx.fillStyle = ctx.strokeStyle; ctx.fillText(text, right ? x - 3*dpr : x + 3*dpr, top + 26*dpr);
      });
      ctx.restore();
    }] } };
  }
  function build(spec, el){
    var width = Math.max(320, el.clientWidth || 900);
    var series = [{ label: spec.xKind === 'nines' ? 'percentile' : spec.xKind === 'seconds' ? 's' : spec.xLabel, value: function(u, v){ return v == null ? '--' : spec.xKind === 'nines' ? ninesLabel(v) : spec.xKind === 'seconds' ? v + ' s' : num(v); } }];
    spec.series.forEach(function(s, i){
      series.push({ label: s.label, scale: s.scale, stroke: COLORS[i % COLORS.length], width: 2, dash: s.dash ? [6,4] : undefined,
        spanGaps: spec.xKind === 'nines', points: { show: spec.x.length < 60 }, value: function(u, v){ return num(v); } });
    });
    var axes = [{ label: spec.xLabel }];
    if (spec.xKind === 'nines') {
      axes[0].splits = function(u){ var out = [], max = u.scales.x.max; for (var k = 0; k <= Math.floor(max + 1e-9); k++) out.push(k); if (max > 0.3) out.splice(1, 0, Math.log10(2)); return out; };
      axes[0].values = function(u, splits){ return splits.map(ninesLabel); };
    }
    spec.axes.forEach(function(a){
      var ax = { scale: a.scale, label: a.label, side: a.side === 'right' ? 1 : 3, grid: { show: a.side !== 'right' }, size: 60,
        values: function(u, splits){ return splits.map(compact); } };
      // Log axes: one tick per power of ten (uPlot's default marks every 1..9 of each decade).
      if (a.log) ax.splits = function(u, i, min, max){ var out = []; for (var e = Math.floor(Math.log10(min)); Math.pow(10, e) <= max * 1.0001; e++) if (Math.pow(10, e) >= min * 0.9999) out.push(Math.pow(10, e)); return out; };
      axes.push(ax);
    });
    var scales = { x: { time: false } };
    spec.axes.forEach(function(a){ scales[a.scale] = a.log ? { distr: 3 } : { range: function(u, min, max){ return [Math.min(0, min), max > 0 ? max * 1.15 : 1]; } }; });
    var opts = { width: width, height: 300, scales: scales, series: series, axes: axes, plugins: [marks(spec)], cursor: { drag: { x: true, y: false } }, legend: { live: true } };
    var d = [spec.x].concat(spec.series.map(function(s){ return s.values; }));
    return new uPlot(opts, d, el);
  }
  var plots = [];
  data.charts.forEach(function(spec){
    var el = document.getElementById(spec.id);
    if (!el) return;
    if (!spec.x.length) return;
    try { plots.push([build(spec, el), el]); rendered++; }
    catch (e) { errors.push(spec.id + ': ' + e.message); console.error('wsbench: chart ' + spec.id + ' failed', e); var p = document.createElement('p'); p.className = 'chart-error'; p.textContent = 'chart failed: ' + e.message; el.appendChild(p); }
  });
  document.body.setAttribute('data-charts-rendered', String(rendered));
  document.body.setAttribute('data-chart-errors', String(errors.length));
  window.addEventListener('resize', function(){ plots.forEach(function(p){ p[0].setSize({ width: Math.max(320, p[1].clientWidth), height: 300 }); }); });
})();
`;
