import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuTicks, startCpuSampler } from './cpu-sampler.js';

describe('CPU per process from /proc (real processes)', () => {
  it('a busy process reads higher than an idle one, and a process that is gone reads nothing', async () => {
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    const idle = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)'], { stdio: 'ignore' });
    try {
      const sampler = startCpuSampler(
        () => [
          { name: 'busy', pid: busy.pid },
          { name: 'idle', pid: idle.pid },
          { name: 'none', pid: undefined },
        ],
        300,
      );
      await new Promise((r) => setTimeout(r, 1300));
      await sampler.stop();
      expect(sampler.samples.length).toBeGreaterThanOrEqual(2);
      const last = sampler.samples.at(-1)!;
      expect(Object.keys(last.cpu).sort()).toEqual(['busy', 'idle']);
      expect(last.cpu.busy).toBeGreaterThan(last.cpu.idle);
    } finally {
      busy.kill('SIGKILL');
      idle.kill('SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(await cpuTicks(2 ** 22 + 12345)).toBeNull();
  });
});
