import { Progress, formatDuration, formatRate } from '../../src/cli/progress';

function fake(isTTY: boolean, env: Record<string, string> = {}) {
  let t = 1_000_000;
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) };
  return { out, stream, env, now: () => t, tick: (ms: number) => (t += ms) };
}

describe('progress', () => {
  test('rates and durations never show NaN or Infinity', () => {
    expect(formatRate(0, 0)).toBe('');
    expect(formatRate(10, 0)).toBe('');
    expect(formatRate(0, 2)).toBe('0/s');
    expect(formatRate(5000, 2, 'lines')).toBe('2,500 lines/s');
    expect(formatDuration(42)).toBe('0:42');
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  test('with a known total: share done and an ETA from the rate so far', () => {
    const f = fake(true);
    const p = new Progress('demo events', { total: 1000, ...f });
    f.tick(10_000);
    p.update(250);
    // a quarter in 10 s: three quarters take 30 s more
    expect(f.out.join('')).toContain('demo events: 250/1,000  25.0%  25/s  ETA 0:30');
  });

  test('a file: the share comes from bytes, the count is lines', () => {
    const f = fake(true);
    const p = new Progress('replay', { unit: 'lines', ...f });
    f.tick(4000);
    p.update(8000, 0.5);
    expect(f.out.join('')).toContain('replay: 8,000 lines  50.0%  2,000/s  ETA 0:04');
  });

  test('off a terminal: a plain line every few seconds, and a last line once any was printed', () => {
    const f = fake(false);
    const p = new Progress('replay', { unit: 'lines', ...f });
    for (let i = 1; i <= 40; i++) {
      f.tick(500);
      p.update(i * 100);
    }
    // 20 s of updates every 0.5 s: one line per 5 s, each a whole line (no carriage returns)
    expect(f.out).toHaveLength(4);
    for (const line of f.out) expect(line).toMatch(/^replay: [\d,]+ lines {2}[\d,]+\/s\n$/);
    p.done(4000);
    expect(f.out).toHaveLength(5);
    expect(f.out[4]).toMatch(/^replay: 4,000 lines/);
  });

  test('off a terminal, a short run prints nothing unless FW_PROGRESS=1; FW_PROGRESS=0 silences a terminal', () => {
    const quiet = fake(false);
    const p = new Progress('demo events', { total: 10, ...quiet });
    p.update(5);
    p.done(10);
    expect(quiet.out).toEqual([]);
    const forced = fake(false, { FW_PROGRESS: '1' });
    new Progress('demo events', { total: 10, ...forced }).done(10);
    expect(forced.out).toEqual([expect.stringMatching(/^demo events: 10\/10 {2}100\.0%/)]);
    const off = fake(true, { FW_PROGRESS: '0' });
    const q = new Progress('x', { total: 1, ...off });
    off.tick(1000);
    q.update(1);
    q.done(1);
    expect(off.out).toEqual([]);
  });

  test('zero events: no NaN anywhere', () => {
    const f = fake(false, { FW_PROGRESS: '1' });
    new Progress('demo events', { total: 0, ...f }).done(0);
    expect(f.out.join('')).not.toMatch(/NaN|Infinity/);
  });
});
