// Writes the generated packaging files: the chart's CRD template and RBAC rules, and
// docs/crd-reference.md. `--check` writes nothing and exits 1 when any file is stale.
//
//   npm run generate:packaging            (node scripts/generate-packaging.ts)
//   node scripts/generate-packaging.ts --check
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagingFiles } from './packaging/files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const file of packagingFiles()) {
  const path = join(root, file.path);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === file.text) continue;
  stale.push(file.path);
  if (!check) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.text);
  }
}
if (check && stale.length > 0) {
  process.stderr.write(
    `stale generated files (run npm run generate:packaging):\n  ${stale.join('\n  ')}\n`,
  );
  process.exitCode = 1;
} else {
  process.stdout.write(stale.length === 0 ? 'up to date\n' : `wrote ${stale.join(', ')}\n`);
}
