import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../package/install.ts';

// docs/install.md names files of this repository and embeds YAML; both must stay true.

const doc = await readFile(join(ROOT, 'docs', 'install.md'), 'utf8');

describe('docs/install.md', () => {
  it('names only repository files that exist', async () => {
    const paths = new Set(
      [
        ...doc.matchAll(
          /`((?:charts|crds|examples|argocd|test|docs|operator|\.github)\/[^`\s*]+)`/g,
        ),
      ].map((m) => m[1] as string),
    );
    const links = [...doc.matchAll(/\]\(([a-z-]+\.md)\)/g)].map((m) => `docs/${m[1]}`);
    expect(paths.size).toBeGreaterThan(5);
    for (const path of [...paths, ...links]) {
      await expect(access(join(ROOT, path)), path).resolves.toBeUndefined();
    }
  });

  it('holds YAML blocks that parse', () => {
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) expect(() => parse(block)).not.toThrow();
  });
});
