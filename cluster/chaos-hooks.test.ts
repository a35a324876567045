import { describe, expect, it } from 'vitest';
import { describeHookRun, fillHook, HookFailedError, runHook, runHookOrThrow } from './chaos-hooks.js';

describe('chaos hooks', () => {
  it('fills {node} {nodeUrl} {index}, quoting for the shell what is not plainly safe', () => {
    expect(fillHook('kubectl delete pod {node} --grace-period=0', { node: 'ws-7c9f-2', index: 2 })).toBe('kubectl delete pod ws-7c9f-2 --grace-period=0');
    expect(fillHook('curl -X POST {nodeUrl}/drain #{index}', { nodeUrl: 'http://10.0.0.5:3000', index: 1 })).toBe('curl -X POST http://10.0.0.5:3000/drain #1');
    expect(fillHook('echo {node}', { node: "a'b; rm -rf /" })).toBe(`echo 'a'\\''b; rm -rf /'`);
    expect(fillHook('systemctl stop redis {other}', {})).toBe('systemctl stop redis {other}');
  });

  it('runs through sh -c with its exit code and output; a non-zero exit throws HookFailedError carrying the run', async () => {
    const ok = await runHook('killNode', 'echo killed node-2; echo to-stderr >&2');
    expect(ok).toMatchObject({ key: 'killNode', exitCode: 0 });
    expect(ok.output).toContain('killed node-2');
    expect(ok.output).toContain('to-stderr');
    expect(describeHookRun(ok)).toMatch(/^hook killNode "echo killed node-2; echo to-stderr >&2" exit 0: killed node-2 to-stderr$/);
    const err = await runHookOrThrow('stopRedis', 'echo nope; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookFailedError);
    expect((err as HookFailedError).run.exitCode).toBe(3);
    expect((err as HookFailedError).message).toBe('hook stopRedis "echo nope; exit 3" exit 3: nope (a hook must exit 0)');
  });

  it('a hook that leaves a server running in the background (holding its output) is done when the shell exits, and its server is not killed', async () => {
    const run = await runHook('startNode', 'sleep 3 & echo "started $!"', 2000);
    expect(run.exitCode).toBe(0);
    expect(run.output).not.toContain('killed after');
    const pid = Number(/started (\d+)/.exec(run.output)![1]);
    // The background server outlived the hook's timeout window untouched.
    await new Promise((r) => setTimeout(r, 2200));
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, 'SIGKILL');
  });
});
