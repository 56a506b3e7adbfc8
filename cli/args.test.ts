import { describe, expect, it } from 'vitest';
import { nearest, parseCommandArgs, UsageError } from './args.ts';

describe('nearest flag for a typo', () => {
  it.each([
    ['--confg', ['--config', '--host', '--port'], '--config'],
    ['--prot', ['--config', '--host', '--port'], '--port'],
    ['--leader-elec', ['--leader-elect', '--lease-name'], '--leader-elect'],
    ['--verbose', ['--config', '--host', '--port'], undefined],
    ['-x', ['--config'], undefined],
  ])('%s among %j → %s', (word, candidates, expected) => {
    expect(nearest(word, candidates)).toBe(expected);
  });

  it('puts the suggestion in the usage error', () => {
    const flags = { config: { type: 'string' }, port: { type: 'string' } } as const;
    expect(() => parseCommandArgs(['--confg', 'a.json'], flags)).toThrow(
      new UsageError('unknown flag --confg; did you mean --config? (--help lists them)'),
    );
  });
});
