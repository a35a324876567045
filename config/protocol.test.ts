import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { resolvePlan } from './resolve.js';
import { REFERENCE_PROFILES } from './protocol.js';

const plan = (values: Record<string, unknown>) => resolvePlan('cross-node-broadcast', [{ origin: 'config', source: 'wsbench.config.json', values }], {});
function errorOf(f: () => unknown): WsbenchError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WsbenchError);
    return e as WsbenchError;
  }
  throw new Error('expected an error');
}

const SIO = {
  wire: 'socketio',
  auth: { in: 'query', name: 'access_token', jwt: { secret: 'shh' } },
  join: { event: 'join_room', args: ['{room}'], ack: true },
  publish: { event: 'broadcast', args: ['{room}', '{payload}'] },
  receive: { event: 'room_message', stampPath: 'args[0].body' },
};

describe('the protocol key', () => {
  it('goes to the topology whole and to the effective config with its secret redacted', () => {
    const p = plan({ protocol: SIO });
    expect(p.topology.protocol?.auth?.jwt?.secret).toBe('shh');
    expect(p.config.protocol?.auth?.jwt?.secret).toBe('<redacted>');
  });

  it('names a nested problem by its full key, with the value given', () => {
    const e = errorOf(() => plan({ protocol: { ...SIO, receive: { event: 'room_message', stampPath: 'body;x' } } }));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('protocol.receive.stampPath: must be a path like args[0].body or data.payload (got "body;x")');
  });

  it('the k6 engine refuses a profile that is not the reference one, and takes the reference one', () => {
    const e = errorOf(() => plan({ protocol: SIO, engine: 'k6' }));
    expect(e.message).toContain('protocol: the k6 engine speaks only the reference protocol');
    expect(plan({ protocol: REFERENCE_PROFILES.socketio, engine: 'k6' }).engine).toBe('k6');
  });

  it('security-probes takes a profile (its probes speak it: scenarios/profile-probes.ts) and the reference one', () => {
    const probes = (values: Record<string, unknown>) => resolvePlan('security-probes', [{ origin: 'config', source: 'wsbench.config.json', values }], {});
    expect(probes({ protocol: SIO }).topology.protocol).toEqual(SIO);
    expect(probes({ protocol: REFERENCE_PROFILES.socketio }).scenario.name).toBe('security-probes');
  });
});

describe('WSB_JWT_SECRET with url', () => {
  it('is needed only when the profile signs with the run secret', () => {
    const url = { url: 'http://127.0.0.1:9' };
    expect(errorOf(() => plan(url)).message).toContain('WSB_JWT_SECRET');
    expect(plan({ ...url, protocol: SIO }).topology.protocol?.wire).toBe('socketio');
    const runSecret = { ...SIO, auth: { in: 'query', jwt: {} } };
    expect(errorOf(() => plan({ ...url, protocol: runSecret })).message).toContain('WSB_JWT_SECRET');
  });
});

describe('files a profile names', () => {
  it('must be readable, and a tokens file must hold a token', () => {
    const e = errorOf(() => plan({ protocol: { ...SIO, auth: { in: 'query', tokensFile: '/nonexistent/tokens.txt' } } }));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('protocol.auth.tokensFile: cannot read /nonexistent/tokens.txt (ENOENT)');
  });
});
