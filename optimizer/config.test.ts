import { describe, expect, it } from 'vitest';
import { defaultMemoryBudget, MEMORY_BUDGET_DEFAULTS, memoryLimitFromCgroup } from './config.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('memoryLimitFromCgroup', () => {
  it.each([
    ['v2 limit', { v2: '536870912\n' }, 512 * MiB],
    ['v2 unlimited', { v2: 'max\n' }, undefined],
    ['v2 wins over v1', { v2: '1073741824\n', v1: '536870912\n' }, GiB],
    ['v2 unlimited is not overridden by v1', { v2: 'max\n', v1: '536870912\n' }, undefined],
    ['v1 limit', { v1: '268435456\n' }, 256 * MiB],
    ['v1 unlimited (largest page-aligned int64)', { v1: '9223372036854771712\n' }, undefined],
    ['both missing', {}, undefined],
    ['garbage', { v2: 'lots\n' }, undefined],
    ['empty file', { v1: '' }, undefined],
    ['zero', { v2: '0' }, undefined],
  ])('%s', (_name, files, expected) => {
    expect(memoryLimitFromCgroup(files)).toBe(expected);
  });
});

describe('defaultMemoryBudget', () => {
  it('takes 75% of what the limit leaves above the baseline', () => {
    expect(defaultMemoryBudget(1 * GiB, 64 * GiB)).toBe(Math.floor((1024 - 192) * MiB * 0.75));
  });

  it('never goes below the minimum on a tiny limit', () => {
    expect(defaultMemoryBudget(128 * MiB, 64 * GiB)).toBe(MEMORY_BUDGET_DEFAULTS.minimumBytes);
  });

  it('without a limit: 1 GiB, or a quarter of a small host', () => {
    expect(defaultMemoryBudget(undefined, 64 * GiB)).toBe(GiB);
    expect(defaultMemoryBudget(undefined, 2 * GiB)).toBe(512 * MiB);
  });
});
