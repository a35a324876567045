/**
 * The shape of the project's Dockerfile (the image `wsbench render` points at). The image is not
 * built here: the Docker engine of the test machines reaches no registry (no base image to pull,
 * no npm packages to install), so these checks read the file and the package it packs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../common/paths.js';
import { REPORT_SCHEMA_PATH } from '../model/schema.js';

const root = packageRoot();
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
const stages: string[][] = [];
for (const l of lines) {
  if (/^FROM\s/i.test(l)) stages.push([l]);
  else stages[stages.length - 1]?.push(l);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };

describe('Dockerfile', () => {
  it('three stages on one Node 20 base: build, production dependencies, the image', () => {
    expect(lines[0]).toMatch(/^ARG NODE_IMAGE=node:20-/);
    expect(stages.map((s) => s[0])).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE} AS deps', 'FROM ${NODE_IMAGE}']);
  });

  it('the build stage installs everything and compiles; it copies every folder tsconfig.json compiles', () => {
    const build = stages[0].join('\n');
    expect(build).toMatch(/RUN npm ci --ignore-scripts/);
    expect(build).toMatch(/RUN npx tsc -p tsconfig.json/);
    const copied = new Set(stages[0].flatMap((l) => (/^COPY\s/.test(l) ? l.replace(/^COPY\s+/, '').split(/\s+/).slice(0, -1) : [])));
    for (const inc of tsconfig.include) expect(copied.has(inc), `COPY ${inc}`).toBe(true);
  });

  it('the image holds production dependencies only, dist/, and the files packageRoot() and the CLI read', () => {
    expect(stages[1].join('\n')).toMatch(/RUN npm ci --omit=dev --ignore-scripts/);
    const image = stages[2].join('\n');
    expect(image).toMatch(/COPY --from=deps \/wsbench\/node_modules node_modules/);
    expect(image).toMatch(/COPY --from=build \/wsbench\/dist dist/);
    // packageRoot() looks for package.json beside tsconfig.json (common/paths.ts).
    expect(image).toMatch(/COPY package\.json tsconfig\.json \.\//);
    expect(image).toMatch(/COPY bin bin/);
    // Every report written is validated against the schema file, read at run time.
    expect(image).toContain(`COPY ${REPORT_SCHEMA_PATH} ${REPORT_SCHEMA_PATH}`);
    expect(image).toMatch(/ln -s \/wsbench\/bin\/wsbench\.js \/usr\/local\/bin\/wsbench/);
    expect(image).toMatch(/^USER node$/m);
    // The manifests run the reference servers from /wsbench (cluster/docker-spec.ts APP_DIR).
    expect(stages.every((s) => s.includes('WORKDIR /wsbench'))).toBe(true);
  });
});

/** Non-test TypeScript files of the folders tsc compiles (what dist/ holds). */
function sources(): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      if (/node_modules|dist|engines\/k6\/scripts$/.test(p)) return;
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  };
  for (const inc of tsconfig.include.filter((i) => i !== 'bench')) walk(join(root, inc));
  return out;
}

describe('the production dependencies cover what dist/ loads', () => {
  it('every package a compiled module imports at run time is a dependency, not only a devDependency (npm ci --omit=dev)', () => {
    const missing: string[] = [];
    for (const file of sources()) {
      const code = readFileSync(file, 'utf8');
      // Value imports (type-only imports vanish when compiled), static and dynamic.
      for (const m of code.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'|import\(\s*'([^'.][^']*)'\s*\)/gm)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!pkg.dependencies[name]) missing.push(`${relative(root, file)}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
