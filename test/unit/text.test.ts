import { Counter, Registry } from 'prom-client';
import fc from 'fast-check';
import { clip, escapeControl, forTerminal, isWellFormed, labelValue, quoted, safeText, toWellFormed } from '../../src/core/text';
import { dict, own } from '../../src/core/dict';

describe('text rules', () => {
  test('well-formedness: lone surrogates are found and replaced, pairs are kept', () => {
    expect(isWellFormed('a😀b')).toBe(true);
    expect(isWellFormed('a\ud800b')).toBe(false);
    expect(isWellFormed('\udc00')).toBe(false);
    expect(isWellFormed('\ude00\ud83d')).toBe(false); // reversed pair
    expect(toWellFormed('x\ud800y\udc00')).toBe('x\ufffdy\ufffd');
  });

  test('clip never cuts a surrogate pair; safeText is always storable', () => {
    expect(clip('ab😀', 3)).toBe('ab');
    expect(clip('ab😀', 4)).toBe('ab😀');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: 1, max: 70 }), (s, n) => {
        const c = safeText(s, n);
        expect(c.length).toBeLessThanOrEqual(n);
        expect(isWellFormed(c)).toBe(true);
        if (isWellFormed(s)) expect(s.startsWith(c)).toBe(true);
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  test('control characters become visible escapes for a terminal; line feeds between lines stay', () => {
    expect(escapeControl('a\u001b[2Jb\u0007\u0000\u009b\u202e')).toBe('a\\x1b[2Jb\\x07\\x00\\x9b\\u202e');
    expect(escapeControl('plain ü 😀')).toBe('plain ü 😀');
    expect(forTerminal('one\u001b[31m\ntwo\r\n')).toBe('one\\x1b[31m\ntwo\\x0d\n');
    expect(quoted('x\u0007'.repeat(100), 10)).toBe('"x\\x07x\\x07x\\x07x\\x07x\\x07…"');
  });

  test('label values reach /metrics without raw control characters and keep the exposition line-per-series', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'fw_test_total', help: 'h', labelNames: ['model'], registers: [registry] });
    const hostile = ['m\u001b]0;pwned\u0007', 'a\nb', 'q"\\', '\u0000\u0001', 'x'.repeat(10_000), 'lone\ud800'];
    for (const h of hostile) c.inc({ model: labelValue(h) });
    const text = await registry.metrics();
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const series = text.split('\n').filter((l) => l.startsWith('fw_test_total{'));
    expect(series).toHaveLength(hostile.length);
    for (const l of series) expect(l.length).toBeLessThan(400);
  });
});

describe('records without a prototype', () => {
  test('every name is an ordinary own key', () => {
    const d = dict<number>();
    for (const k of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) d[k] = k.length;
    expect(Object.keys(d).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(JSON.parse(JSON.stringify(d))).toEqual(JSON.parse('{"__proto__":9,"constructor":11,"toString":8,"hasOwnProperty":14}'));
    const plain: Record<string, number> = { a: 1 };
    expect(own(plain, 'constructor')).toBeUndefined();
    expect(own(plain, 'toString')).toBeUndefined();
    expect(own(plain, 'a')).toBe(1);
  });
});
