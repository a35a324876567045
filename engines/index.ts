import { k6Engine } from './k6/k6-engine.js';
import { nodeEngine } from './node/engine.js';
import type { Engine } from './types.js';

export * from './types.js';
export { nodeEngine } from './node/engine.js';
export { k6Engine } from './k6/k6-engine.js';

/** The engine of that name (`--engine`). */
export function engineFor(name: Engine['name']): Engine {
  return name === 'k6' ? k6Engine : nodeEngine;
}
