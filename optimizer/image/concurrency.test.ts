import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultConcurrency, parseCpuMax } from './concurrency.ts';

describe('parseCpuMax', () => {
  it.each([
    ['max 100000\n', undefined],
    ['200000 100000\n', 2],
    ['150000 100000', 2],
    ['50000 100000', 1],
    ['400000 100000', 4],
    ['', undefined],
    ['garbage', undefined],
    ['0 100000', undefined],
  ])('reads %j as %s CPUs', (text, expected) => {
    expect(parseCpuMax(text)).toBe(expected);
  });
});

describe('defaultConcurrency', () => {
  it('is a positive integer no larger than the CPUs Node sees', () => {
    const concurrency = defaultConcurrency();
    expect(Number.isInteger(concurrency)).toBe(true);
    expect(concurrency).toBeGreaterThanOrEqual(1);
    expect(concurrency).toBeLessThanOrEqual(availableParallelism());
  });
});
