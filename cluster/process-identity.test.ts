import { describe, expect, it } from 'vitest';
import { processIdentity, sameProcess } from './process-identity.js';

describe('process identity', () => {
  it('reads this process: its command line, parent and start time', () => {
    const me = processIdentity(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(me.cmdline).toContain(process.argv[1] ? process.argv[1].split('/').pop()! : 'node');
    expect(me.ppid).toBe(process.ppid);
    expect(Number.isInteger(me.startTime) && me.startTime > 0).toBe(true);
    expect(sameProcess(me)).toBe(true);
  });

  it('tells a reused pid from the recorded program: another start time or command line is not the same process', () => {
    const me = processIdentity(process.pid)!;
    expect(sameProcess({ ...me, startTime: me.startTime + 1 })).toBe(false);
    expect(sameProcess({ ...me, cmdline: 'redis-server 127.0.0.1:1' })).toBe(false);
    expect(processIdentity(2 ** 22 + 7)).toBeUndefined();
  });
});
