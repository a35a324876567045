import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MERGE_KEY } from '../render/k6-operator.js';
import { mergeInfoOf } from './merge-k6-operator.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('mergeInfoOf', () => {
  it("takes the runners' target URL from the manifest with its credentials redacted (it lands in topology.url and the console)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-merge-k6op-'));
    dirs.push(dir);
    const file = join(dir, 'testrun.yaml');
    const data = { [MERGE_KEY]: JSON.stringify({ name: 'wsb-run' }), WSB_PLAN: JSON.stringify({}), WSB_URL: 'wss://ops:pw@lb.example:443/ws?apikey=k1&room=a' };
    writeFileSync(file, `kind: ConfigMap\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n---\nkind: TestRun\nspec:\n  runner:\n    image: grafana/k6:0.48.0\n`);
    const got = mergeInfoOf(file);
    expect(got.url).toBe('wss://ops:<redacted>@lb.example:443/ws?apikey=<redacted>&room=a');
    expect(got.runnerImage).toBe('grafana/k6:0.48.0');
    expect(got.info).toEqual({ name: 'wsb-run' });
  });
});
