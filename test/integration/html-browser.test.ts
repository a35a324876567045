/**
 * The HTML report in a real browser: Debian's headless `chromium` opens the file offline, and a
 * probe script injected for the test reports what the page did — charts drawn (canvas present and
 * painted), JavaScript errors and console.error calls — into the DOM that `--dump-dom` prints.
 * Needs Debian's chromium: `npx wsbench setup --tests` installs it (as .ci/run does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.js';
import type { RunReport } from '../../model/run-report.js';
import { evaluateTargets, verdictOf } from '../../model/evaluate.js';
import { SEED_TARGETS } from '../../model/targets.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { combineRuns } from '../../runner/repeats.js';

const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);

const dir = mkdtempSync(join(tmpdir(), 'wsb-html-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'));

const PROBE_HEAD = `<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message))});
var __ce=console.error;console.error=function(){__errors.push([].join.call(arguments,' '));__ce.apply(console,arguments)};</script>`;
const PROBE_TAIL = `<script>addEventListener('load',function(){setTimeout(function(){
var cs=[].slice.call(document.querySelectorAll('.plot canvas'));
var painted=cs.filter(function(c){var d=c.getContext('2d').getImageData(0,0,c.width,c.height).data;for(var i=3;i<d.length;i+=4)if(d[i])return true;return false}).length;
var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify({canvases:cs.length,painted:painted,errors:__errors,
rendered:Number(document.body.getAttribute('data-charts-rendered')),chartErrors:Number(document.body.getAttribute('data-chart-errors'))});
document.body.appendChild(p)},200)})</script>`;

function chromium(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const profile = mkdtempSync(join(dir, 'profile-'));
  return new Promise((resolve) => {
    const child = spawn(
      CHROMIUM!,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, ...args],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

async function open(report: RunReport, name: string): Promise<{ dom: string; probe: { canvases: number; painted: number; errors: string[]; rendered: number; chartErrors: number } }> {
  const file = join(dir, `${name}.html`);
  const html = renderHtml(report).replace('<head>', `<head>${PROBE_HEAD}`).replace('</body>', `${PROBE_TAIL}</body>`);
  writeFileSync(file, html);
  const r = await chromium(['--virtual-time-budget=5000', '--window-size=1280,2000', '--dump-dom', `file://${file}`]);
  expect(r.code).toBe(0);
  const m = /<pre id="probe">([^<]*)<\/pre>/.exec(r.stdout);
  expect(m, 'the probe ran').not.toBeNull();
  return { dom: r.stdout, probe: JSON.parse(m![1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) };
}

describe('the HTML report in headless Chromium', () => {
  it('has a chromium to run (`npx wsbench setup --tests` installs it)', () => {
    expect(CHROMIUM, 'chromium not found: run `npx wsbench setup --tests`').toBeDefined();
  });

  it.each([
    ['report-default-run.json', 4],
    ['report-generator-bound-run.json', 9],
    ['sample-report-chaos.json', 9],
  ])('%s: every chart drawn, no errors, verdict and every target shown', async (fixture, charts) => {
    const report = load(fixture);
    const { dom, probe } = await open(report, fixture);
    expect(probe.errors).toEqual([]);
    expect(probe.chartErrors).toBe(0);
    expect(probe.rendered).toBe(charts);
    expect(probe.canvases).toBe(charts);
    expect(probe.painted).toBe(charts);
    expect(dom).toContain(`id="verdict">${report.verdict.toUpperCase()}<`);
    for (const t of report.targets) expect(dom).toContain(`<b>${t.id}</b>`);
  });

  it('a repeated run (--repeat 3): the Runs section and its distribution table are in the page, every chart drawn, no errors', async () => {
    const runs = [20, 900, 25].map((p99, i) => {
      const r = load('report-default-run.json');
      r.runId = `browser#${i + 1}`;
      r.metrics.broadcast_latency_ms.p99 = p99;
      const targets = evaluateTargets(r, SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]));
      return { ...r, targets, verdict: verdictOf(targets) };
    });
    const report = combineRuns(runs, { count: 3, judge: 'median', freshCluster: false, startedAt: runs[0].startedAt, durationMs: 60_000, events: runs[0].events });
    const { dom, probe } = await open(report, 'repeated');
    expect(probe.errors).toEqual([]);
    expect(probe.chartErrors).toBe(0);
    expect(probe.painted).toBe(probe.rendered);
    expect(probe.rendered).toBe(4);
    const section = /<section id="runs">([\s\S]*?)<\/section>/.exec(dom)?.[1];
    expect(section).toBeDefined();
    expect(section).toContain('3 of 3 runs');
    expect(section!.match(/<tr>/g)!.length).toBeGreaterThan(3 + 2);
    expect(dom).toContain('id="verdict">PASS<');
  });

  it('takes a screenshot (for a person to look at)', async () => {
    const file = join(dir, 'shot.html');
    writeFileSync(file, renderHtml(load('sample-report-chaos.json')));
    const png = join(dir, 'shot.png');
    const r = await chromium(['--window-size=1280,3000', '--hide-scrollbars', `--screenshot=${png}`, `file://${file}`]);
    expect(r.code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });
});
