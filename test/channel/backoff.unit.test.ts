import { DEFAULT_BACKOFF, backoffDelay } from '../../channel/relay/backoff';

describe('backoffDelay', () => {
  it('grows the ceiling exponentially from 1 s and caps it at 60 s', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((failures) => backoffDelay(failures, DEFAULT_BACKOFF, () => 0.999999));
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('jitters over the whole range but never below the base, so there is no hot loop', () => {
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0)).toBe(1000);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0.5)).toBe(30000);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.5)).toBe(1000);
  });

  it('spreads many nodes: delays after saturation average half the cap', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const delays = Array.from({ length: 1000 }, () => backoffDelay(12, DEFAULT_BACKOFF, random));
    const mean = delays.reduce((sum, delay) => sum + delay, 0) / delays.length;
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60000);
    expect(mean).toBeGreaterThan(25000);
    expect(mean).toBeLessThan(35000);
  });
});
