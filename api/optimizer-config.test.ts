import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../lib/config-file.ts';
import { configProblems } from '../test/support/config-problems.ts';
import { OptimizerConfigSchema } from './optimizer-config.ts';

const problems = (config: unknown): string[] => configProblems(OptimizerConfigSchema, config);

describe('optimizer config', () => {
  it("accepts the guide's optimizer watt.json verbatim with Platformatic's defaults", () => {
    const config = parseConfigText(
      'watt.json',
      JSON.stringify({
        $schema: 'https://schemas.platformatic.dev/@platformatic/next/3.38.1.json',
        next: {
          imageOptimizer: { enabled: true, fallback: 'fallback', timeout: 30000, maxAttempts: 3 },
        },
        discovery: { apps: { fallback: 'http://127.0.0.1:3000' } },
      }),
      OptimizerConfigSchema,
    );
    expect(config.next.imageOptimizer).toMatchObject({
      timeout: 30000,
      maxAttempts: 3,
      storage: { type: 'memory' },
    });
    expect(config.next.images.qualities).toEqual([75]);
    expect(config.next.images.imageSizes).toEqual([32, 48, 64, 96, 128, 256, 384]);
    expect(config.next.images.minimumCacheTTL).toBe(14400);
  });

  it('coerces digit strings as Platformatic does', () => {
    const config = parseConfigText(
      'c.json',
      JSON.stringify({
        next: {
          imageOptimizer: { fallback: 'http://127.0.0.1:1', timeout: '5000', maxAttempts: '2' },
        },
      }),
      OptimizerConfigSchema,
    );
    expect(config.next.imageOptimizer.timeout).toBe(5000);
    expect(config.next.imageOptimizer.maxAttempts).toBe(2);
  });

  it('lists every problem by JSON path, including unknown keys', () => {
    const found = problems({
      next: {
        imageOptimizer: {
          fallback: 'Not An Id!',
          timeout: -1,
          maxAttempts: 0,
          storage: { type: 'disk' },
        },
        images: {
          deviceSizes: [640, 20000],
          qualities: [],
          formats: ['image/png'],
          maximumRedirects: 50,
          deviceSize: [1],
        },
      },
      discovery: { apps: { fallback: 'not a url' } },
      optimiser: {},
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.next\.imageOptimizer\.fallback: /),
        expect.stringMatching(/^\$\.next\.imageOptimizer\.timeout: /),
        expect.stringMatching(/^\$\.next\.imageOptimizer\.maxAttempts: /),
        expect.stringMatching(/^\$\.next\.imageOptimizer\.storage/),
        expect.stringMatching(/^\$\.next\.images\.deviceSizes\[1\]: /),
        expect.stringMatching(/^\$\.next\.images\.qualities: /),
        expect.stringMatching(/^\$\.next\.images\.formats\[0\]: /),
        expect.stringMatching(/^\$\.next\.images\.maximumRedirects: /),
        '$.next.images.deviceSize: unknown key (check the spelling)',
        expect.stringMatching(/^\$\.discovery/),
        '$.optimiser: unknown key (check the spelling)',
      ]),
    );
    expect(found.length).toBeGreaterThanOrEqual(11);
  });

  it('requires discovery for an application-id fallback', () => {
    expect(problems({ next: { imageOptimizer: { fallback: 'frontend' } } })).toEqual([
      expect.stringMatching(/^\$\.discovery: fallback "frontend" needs discovery/),
    ]);
    expect(
      problems({
        next: { imageOptimizer: { fallback: 'frontend' } },
        discovery: { namespace: 'shop' },
      }),
    ).toEqual([]);
  });

  it('reports invalid JSON with the parser message', () => {
    expect(() => parseConfigText('bad.json', '{"next": ', OptimizerConfigSchema)).toThrow(
      /not valid JSON/,
    );
  });
});
