import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE_DEFAULTS, UPSTREAM_IMAGES, upstreamOf } from './docker-options.js';

describe('docker image defaults', () => {
  it("carry wsbench's own names, never an official image's tag, each standing for its official image", () => {
    for (const k of ['redis', 'nginx', 'node'] as const) {
      expect(DOCKER_IMAGE_DEFAULTS[k]).toBe(`wsbench/${UPSTREAM_IMAGES[k]}`);
      expect(Object.values(UPSTREAM_IMAGES)).not.toContain(DOCKER_IMAGE_DEFAULTS[k]);
      expect(upstreamOf(DOCKER_IMAGE_DEFAULTS[k])).toBe(UPSTREAM_IMAGES[k]);
    }
    // Any other image is pulled as named.
    expect(upstreamOf('redis:7.4-bookworm')).toBeUndefined();
    expect(upstreamOf('registry.example/chat:1.2')).toBeUndefined();
  });
});
