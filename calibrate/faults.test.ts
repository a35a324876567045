import { describe, expect, it } from 'vitest';
import { calibrationFaultArgs, calibrationFaultOverride, calibrationFaultProblems, splitCalibrationFaults } from './faults.js';
import { referenceNodeArgs } from '../cluster/node-args.js';
import { clusterSpec, nodeProgram } from '../cluster/docker-spec.js';
import { SERVER_DEFAULTS, type Topology } from '../cluster/types.js';
import { parseCalibrationFaults } from '../reference-server/calibration-faults.js';
import { buildPlan } from '../cli/plan.js';

const topology: Topology = {
  server: 'socketio',
  nodes: 2,
  lb: 'nginx',
  lbPolicy: 'ip_hash',
  lbPort: 0,
  expectedConnections: 10,
  serverOptions: SERVER_DEFAULTS,
  jwtSecret: 's',
  readyTimeoutMs: 1000,
};

describe('the harness side of --calibration-fault', () => {
  it('accepts exactly what the reference nodes accept (one grammar, written twice)', () => {
    const specs = [
      'delay-cross=20',
      'delay-cross=1:room-1',
      'drop-every=7:room-3',
      'dup-every=1',
      'swap-pairs',
      'swap-pairs:room-9',
      'leak-room=4',
      'leak-room=1:room-2',
      'leak-room=0',
      'drop-every=0',
      'delay-cross=0',
      'delay-cross=60001',
      'swap-pairs=2',
      'lose-every=3',
      'drop-every=x',
      'DUP-EVERY=5',
    ];
    for (const spec of specs) {
      let nodeAccepts = true;
      try {
        parseCalibrationFaults([spec]);
      } catch {
        nodeAccepts = false;
      }
      expect(calibrationFaultProblems([spec]).length === 0, spec).toBe(nodeAccepts);
    }
  });

  it('splits repeated and comma-separated values', () => {
    expect(splitCalibrationFaults(['drop-every=7:room-3, dup-every=5', 'swap-pairs'])).toEqual(['drop-every=7:room-3', 'dup-every=5', 'swap-pairs']);
    expect(splitCalibrationFaults('delay-cross=20')).toEqual(['delay-cross=20']);
    expect(splitCalibrationFaults(undefined)).toEqual([]);
  });

  it('gives both drivers the same node flag, and none without faults', () => {
    const faulted = { ...topology, calibrationFaults: ['drop-every=7:room-3', 'swap-pairs'] };
    expect(calibrationFaultArgs(topology)).toEqual([]);
    expect(referenceNodeArgs(topology, { port: 1, host: 'h', redisUrl: 'redis://r', nodeId: 'node-1' })).not.toContain('--calibration-fault');
    const args = referenceNodeArgs(faulted, { port: 1, host: 'h', redisUrl: 'redis://r', nodeId: 'node-1' });
    expect(args.slice(args.indexOf('--calibration-fault'))).toEqual(['--calibration-fault', 'drop-every=7:room-3,swap-pairs']);
    // The docker driver builds its containers' commands from the same arguments.
    const spec = clusterSpec({
      topology: faulted,
      runId: 'r1',
      runDir: '/tmp/r1',
      mode: 'host',
      images: { redis: 'redis', nginx: 'nginx', node: 'node' },
      ports: { redis: 1, nodes: [2, 3], lb: 4 },
      labels: () => ({}),
      appDir: '/src/wsbench',
      nodeProgram: nodeProgram(faulted, '/src/wsbench', () => '/unused'),
    });
    for (const n of spec.nodes) expect(n.command.join(' ')).toContain('--calibration-fault drop-every=7:room-3,swap-pairs');
  });

  it('is a `wsbench run` flag: checked before anything starts, and recorded loudly', () => {
    const plan = buildPlan('cross-node-broadcast', { calibrationFault: ['drop-every=7:room-3,dup-every=5'] });
    expect(plan.topology.calibrationFaults).toEqual(['drop-every=7:room-3', 'dup-every=5']);
    expect(buildPlan('cross-node-broadcast', {}).topology.calibrationFaults).toBeUndefined();
    expect(() => buildPlan('cross-node-broadcast', { calibrationFault: ['lose-some'] })).toThrow(/--calibration-fault: 'lose-some' is not a calibration fault/);
    const o = calibrationFaultOverride(['dup-every=5']);
    expect(o).toMatchObject({ setting: 'calibrationFault', value: 'dup-every=5', seedDefault: 'none' });
    expect(o.why).toMatch(/^CALIBRATION ONLY/);
  });
});
