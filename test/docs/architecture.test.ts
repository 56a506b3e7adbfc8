import { access, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../package/install.ts';

// docs/architecture.md is read by newcomers who grep what it names: every path and every
// identifier in backticks must exist in the repository.

const doc = await readFile(join(ROOT, 'docs', 'architecture.md'), 'utf8');
const SOURCE_DIRS = ['api', 'lib', 'optimizer', 'proxy', 'operator', 'cli', 'scripts', 'bench'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

const files = (await Promise.all(SOURCE_DIRS.map(sourceFiles))).flat();
const names = new Set(files.map((f) => basename(f)));
const source = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
const spans = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);

describe('docs/architecture.md', () => {
  it('names only repository paths that exist', async () => {
    const paths = spans.filter((s) => /^[a-z-]+\/[\w./-]*$/.test(s));
    expect(paths.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const path of paths) {
      await access(join(ROOT, path.replace(/\*.*$/, ''))).catch(() => missing.push(path));
    }
    expect(missing).toEqual([]);
  });

  it('names only source files that exist', () => {
    const bare = spans.filter((s) => /^[\w-]+\.ts$/.test(s));
    expect(bare.length).toBeGreaterThan(20);
    expect(bare.filter((name) => !names.has(name))).toEqual([]);
  });

  it('names only identifiers the code defines or uses', () => {
    const identifiers = spans.filter((s) => /^[A-Za-z_]\w*$/.test(s));
    expect(identifiers.length).toBeGreaterThan(40);
    const missing = identifiers.filter((id) => !new RegExp(`\\b${id}\\b`).test(source));
    expect(missing).toEqual([]);
  });

  it('is linked from README.md', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/architecture.md)');
  });
});
