import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeliveryLedger } from './delivery-ledger.js';
import { addAccounting, emptyAccounting } from '../model/accounting.js';

const one = (receiver: number, pub: number, sent: number, cross = false) => [{ receiver, pub, sent, cross }];

describe('DeliveryLedger: hand-built cases', () => {
  it('in-order delivery: everything received, nothing else', () => {
    const l = new DeliveryLedger();
    for (let s = 0; s < 100; s++) expect(l.record(1, 7, s)).toBe('new');
    const r = l.account(one(1, 7, 100));
    expect(r.total).toEqual({ expected: 100, received: 100, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 });
    expect(r.unexpected).toBe(0);
  });

  it('one lost message', () => {
    const l = new DeliveryLedger();
    for (let s = 0; s < 10; s++) if (s !== 4) l.record(0, 0, s);
    const r = l.account(one(0, 0, 10));
    expect(r.total.received).toBe(9);
    expect(r.total.lost).toBe(1);
    expect(r.total.reordered).toBe(0);
    expect(r.total.deliveryRatio).toBeCloseTo(0.9, 12);
  });

  it('lost tail and a stream that received nothing', () => {
    const l = new DeliveryLedger();
    l.record(0, 0, 0);
    l.record(0, 0, 1);
    const r = l.account([...one(0, 0, 5), ...one(0, 1, 3), ...one(9, 0, 2)]);
    expect(r.total).toMatchObject({ expected: 10, received: 2, lost: 8 });
  });

  it('a duplicate is counted once as duplicated, never as reordered', () => {
    const l = new DeliveryLedger();
    expect(l.record(0, 0, 0)).toBe('new');
    expect(l.record(0, 0, 1)).toBe('new');
    expect(l.record(0, 0, 0)).toBe('duplicate');
    expect(l.record(0, 0, 1)).toBe('duplicate');
    expect(l.record(0, 0, 1)).toBe('duplicate');
    const r = l.account(one(0, 0, 2));
    expect(r.total).toEqual({ expected: 2, received: 2, lost: 0, duplicated: 3, reordered: 0, deliveryRatio: 1 });
  });

  it('a swapped pair is exactly one reordered', () => {
    const l = new DeliveryLedger();
    expect([0, 2, 1, 3].map((s) => l.record(0, 0, s))).toEqual(['new', 'new', 'reordered', 'new']);
    const r = l.account(one(0, 0, 4));
    expect(r.total).toMatchObject({ received: 4, lost: 0, duplicated: 0, reordered: 1 });
  });

  it('seq beyond sent and streams nobody expected are unexpected', () => {
    const l = new DeliveryLedger();
    for (let s = 0; s < 5; s++) l.record(0, 0, s);
    l.record(0, 0, 5); // beyond sent = 5
    l.record(0, 0, 5); // again: still unexpected, not duplicated
    l.record(3, 3, 0); // no expectation at all
    const r = l.account(one(0, 0, 5));
    expect(r.total).toEqual({ expected: 5, received: 5, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 });
    expect(r.unexpected).toBe(3);
  });

  it('same-node / cross-node split, and total = sum', () => {
    const l = new DeliveryLedger();
    for (let s = 0; s < 10; s++) l.record(0, 0, s); // same node, complete
    for (let s = 0; s < 10; s += 2) l.record(0, 1, s); // cross node, half lost
    l.record(0, 1, 0); // one duplicate cross node
    const r = l.account([
      { receiver: 0, pub: 0, sent: 10, cross: false },
      { receiver: 0, pub: 1, sent: 10, cross: true },
    ]);
    expect(r.sameNode).toEqual({ expected: 10, received: 10, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 });
    expect(r.crossNode).toEqual({ expected: 10, received: 5, lost: 5, duplicated: 1, reordered: 0, deliveryRatio: 0.5 });
    expect(r.total).toEqual(addAccounting(r.sameNode, r.crossNode));
    expect(r.total.deliveryRatio).toBe(0.75);
  });

  it('nothing expected: ratio 1', () => {
    const r = new DeliveryLedger().account([]);
    expect(r.total).toEqual(emptyAccounting());
    expect(r.total.deliveryRatio).toBe(1);
    expect(r.unexpected).toBe(0);
  });

  it('`from` limits the expected range (late joiner)', () => {
    const l = new DeliveryLedger();
    for (let s = 3; s < 10; s++) l.record(0, 0, s);
    l.record(0, 0, 1); // before the receiver was expected to get anything
    const r = l.account([{ receiver: 0, pub: 0, sent: 10, cross: false, from: 3 }]);
    expect(r.total).toMatchObject({ expected: 7, received: 7, lost: 0, reordered: 0 });
    expect(r.unexpected).toBe(1);
  });

  it('long streams compact the received prefix and stay exact', () => {
    const l = new DeliveryLedger();
    const n = 200_000;
    for (let s = 0; s < n; s++) if (s % 1000 !== 999) l.record(0, 0, s);
    for (let s = 0; s < n; s += 50_000) expect(l.record(0, 0, s)).toBe('duplicate');
    const r = l.account(one(0, 0, n));
    expect(r.total).toMatchObject({ expected: n, received: n - 200, lost: 200, duplicated: 4, reordered: 0 });
  });

  it('a huge seq does not blow up memory and is still accounted', () => {
    const l = new DeliveryLedger();
    l.record(0, 0, 0);
    expect(l.record(0, 0, 2 ** 40)).toBe('new');
    expect(l.record(0, 0, 2 ** 40)).toBe('duplicate');
    expect(l.record(0, 0, 1)).toBe('reordered');
    const r = l.account(one(0, 0, 2 ** 40 + 1));
    expect(r.total.received).toBe(3);
    expect(r.total.duplicated).toBe(1);
  });

  it('account is repeatable', () => {
    const l = new DeliveryLedger();
    [0, 2, 1, 1].forEach((s) => l.record(0, 0, s));
    l.record(5, 5, 5);
    const a = l.account(one(0, 0, 4));
    const b = l.account(one(0, 0, 4));
    expect(b).toEqual(a);
    expect(a.unexpected).toBe(1);
  });

  it('rejects invalid seqs', () => {
    const l = new DeliveryLedger();
    expect(() => l.record(0, 0, -1)).toThrow(RangeError);
    expect(() => l.record(0, 0, 1.5)).toThrow(RangeError);
    expect(() => l.record(0, 0, Number.NaN)).toThrow(RangeError);
  });
});

describe('DeliveryLedger: properties', () => {
  /** A permutation of [0, n) with some seqs dropped and some duplicated (duplicates inserted at random later positions). */
  const scenario = fc
    .integer({ min: 0, max: 300 })
    .chain((n) =>
      fc.record({
        n: fc.constant(n),
        order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
        drop: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        dupCount: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
        positions: fc.array(fc.nat(), { minLength: 3 * n, maxLength: 3 * n }),
      }),
    );

  it('received + lost == expected; duplicated == injected; received == distinct kept', () => {
    fc.assert(
      fc.property(scenario, ({ n, order, drop, dupCount, positions }) => {
        const arrivals: number[] = [];
        let injected = 0;
        const kept = new Set<number>();
        for (const s of order) {
          if (drop[s]) continue;
          kept.add(s);
          arrivals.push(s);
        }
        // Insert duplicates after the seq's first arrival, at random later positions.
        let p = 0;
        for (const s of [...kept]) {
          for (let k = 0; k < dupCount[s]; k++) {
            const first = arrivals.indexOf(s);
            const at = first + 1 + (positions[p++] % (arrivals.length - first));
            arrivals.splice(at, 0, s);
            injected++;
          }
        }
        const l = new DeliveryLedger();
        let dupKinds = 0;
        for (const s of arrivals) if (l.record(4, 2, s) === 'duplicate') dupKinds++;
        const r = l.account([{ receiver: 4, pub: 2, sent: n, cross: true }]);
        expect(r.total.received + r.total.lost).toBe(n);
        expect(r.total.expected).toBe(n);
        expect(r.total.duplicated).toBe(injected);
        expect(dupKinds).toBe(injected);
        expect(r.total.received).toBe(kept.size);
        expect(r.total.reordered).toBeLessThanOrEqual(kept.size);
        expect(r.crossNode).toEqual(r.total);
        expect(r.sameNode.expected).toBe(0);
        expect(r.unexpected).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('sorted unique input: reordered == 0 and only drops are lost', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 400 }), fc.integer({ min: 0, max: 200 }), (seqs, extra) => {
        seqs.sort((a, b) => a - b);
        const sent = (seqs.length ? seqs[seqs.length - 1] + 1 : 0) + extra;
        const l = new DeliveryLedger();
        for (const s of seqs) expect(l.record(1, 1, s)).toBe('new');
        const r = l.account(one(1, 1, sent));
        expect(r.total.reordered).toBe(0);
        expect(r.total.duplicated).toBe(0);
        expect(r.total.received).toBe(seqs.length);
        expect(r.total.lost).toBe(sent - seqs.length);
      }),
      { numRuns: 300 },
    );
  });

  it('matches a naive model on arbitrary arrivals (incl. beyond sent, several streams)', () => {
    const arrival = fc.record({ r: fc.integer({ min: 0, max: 2 }), p: fc.integer({ min: 0, max: 2 }), s: fc.integer({ min: 0, max: 120 }) });
    const expectation = fc.record({ receiver: fc.integer({ min: 0, max: 2 }), pub: fc.integer({ min: 0, max: 2 }), sent: fc.integer({ min: 0, max: 100 }), cross: fc.boolean() });
    fc.assert(
      fc.property(fc.array(arrival, { maxLength: 400 }), fc.uniqueArray(expectation, { selector: (e) => `${e.receiver}/${e.pub}`, maxLength: 9 }), (arrivals, exps) => {
        const l = new DeliveryLedger();
        for (const a of arrivals) l.record(a.r, a.p, a.s);
        const got = l.account(exps);
        // Naive model.
        const seen = new Map<string, Set<number>>();
        const highest = new Map<string, number>();
        const sentOf = new Map(exps.map((e) => [`${e.receiver}/${e.pub}`, e.sent]));
        let duplicated = 0, reordered = 0, unexpected = 0;
        for (const a of arrivals) {
          const key = `${a.r}/${a.p}`;
          const set = seen.get(key) ?? new Set<number>();
          seen.set(key, set);
          const sent = sentOf.get(key);
          const inRange = sent !== undefined && a.s < sent;
          if (set.has(a.s)) {
            if (inRange) duplicated++;
            else unexpected++;
          } else {
            if (!inRange) unexpected++;
            else if (a.s < (highest.get(key) ?? -1)) reordered++;
            set.add(a.s);
            highest.set(key, Math.max(highest.get(key) ?? -1, a.s));
          }
        }
        let expected = 0, received = 0;
        for (const e of exps) {
          expected += e.sent;
          const set = seen.get(`${e.receiver}/${e.pub}`);
          if (set) for (const s of set) if (s < e.sent) received++;
        }
        expect(got.total).toEqual({
          expected, received, lost: expected - received, duplicated, reordered,
          deliveryRatio: expected === 0 ? 1 : received / expected,
        });
        expect(got.unexpected).toBe(unexpected);
        expect(addAccounting(got.sameNode, got.crossNode)).toEqual(got.total);
      }),
      { numRuns: 300 },
    );
  });
});

describe('DeliveryLedger.has / missing', () => {
  it('lists exactly the seqs never received, across the compacted prefix and the bitset', () => {
    const l = new DeliveryLedger();
    const got = new Set<number>();
    for (let s = 0; s < 200; s++) if (s % 7 !== 3 && s !== 150) got.add(s);
    for (const s of got) l.record(1, 2, s);
    expect([...l.missing(1, 2, 0, 210)]).toEqual(Array.from({ length: 210 }, (_, i) => i).filter((i) => !got.has(i)));
    expect(l.has(1, 2, 0)).toBe(true);
    expect(l.has(1, 2, 3)).toBe(false);
    expect([...l.missing(9, 9, 5, 8)]).toEqual([5, 6, 7]);
  });
});
