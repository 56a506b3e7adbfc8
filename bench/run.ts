// `npm run bench`: the optimizer benchmark of issue 2 §5, then any sibling benches that exist
// (gateway, fleet, operator). Prints Markdown and writes it to bench/.work/results.md.
// Flags: --quick (fewer requests), --skip-next (no Next.js install/build/columns),
// --png-out (add PNG → PNG jobs, Next's slow palette PNG), --profile (--cpu-prof the optimizer),
// --no-siblings (only the optimizer bench).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { benchOptimizer, defaultOptimizerBenchOptions, prepareWorkDir } from './optimizer.ts';

type Sibling = { file: string; exportName: string };

const SIBLINGS: Sibling[] = [
  { file: 'gateway.ts', exportName: 'benchGateway' },
  { file: 'fleet.ts', exportName: 'benchFleet' },
  { file: 'operator.ts', exportName: 'benchOperator' },
];

const errorText = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

// A sibling may return Markdown, an object carrying `markdown`, or anything printable.
function asMarkdown(result: unknown): string {
  if (typeof result === 'string') return result;
  if (
    typeof result === 'object' &&
    result !== null &&
    'markdown' in result &&
    typeof result.markdown === 'string'
  ) {
    return result.markdown;
  }
  return result === undefined ? '' : `\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\`\n`;
}

async function runSibling(sibling: Sibling): Promise<string | undefined> {
  const url = new URL(`./${sibling.file}`, import.meta.url);
  if (!existsSync(url)) return undefined;
  try {
    const mod = (await import(url.href)) as Record<string, unknown>;
    const fn = mod[sibling.exportName];
    if (typeof fn !== 'function')
      throw new Error(`bench/${sibling.file} does not export ${sibling.exportName}()`);
    return asMarkdown(await (fn as () => Promise<unknown>)());
  } catch (error: unknown) {
    return `## bench/${sibling.file} failed\n\n\`\`\`\n${errorText(error)}\n\`\`\`\n`;
  }
}

const FLAGS = ['--quick', '--skip-next', '--png-out', '--profile', '--no-siblings'] as const;
const USAGE = `Usage: npm run bench -- [--quick] [--skip-next] [--png-out] [--profile] [--no-siblings]

Runs the optimizer benchmark (columns (a)–(f), ratio rows, the per-stage breakdown of a miss)
and then, unless --no-siblings, the gateway, fleet and operator benches; prints Markdown and
writes it to the work directory's results.md. bench/README.md explains every column.

  --quick        fewer requests (a smoke run, numbers are not for reports)
  --skip-next    no Next.js install, build or columns (e)
  --png-out      add PNG → PNG jobs (Next's slow palette PNG)
  --profile      --cpu-prof the optimizer; adds the main-process stages, decode/resize/encode
                 and the sharp settings sweep
  --no-siblings  only the optimizer bench
  -h, --help     this text
`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const unknown = argv.filter((a) => !(FLAGS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown flag ${unknown.join(', ')} (--help lists them)\n`);
    process.exitCode = 2;
    return;
  }
  const quick = argv.includes('--quick');
  const sections: string[] = [];
  try {
    sections.push(
      await benchOptimizer({
        skipNext: argv.includes('--skip-next'),
        pngOut: argv.includes('--png-out'),
        profile: argv.includes('--profile'),
        ...(quick ? { missCount: 40, hitMaxMs: 3000, largeCount: 8, probeReps: 2 } : {}),
      }),
    );
  } catch (error: unknown) {
    sections.push(`## Optimizer benchmark failed\n\n\`\`\`\n${errorText(error)}\n\`\`\`\n`);
  }
  process.stdout.write(`\n${sections[0]}\n`);
  for (const sibling of argv.includes('--no-siblings') ? [] : SIBLINGS) {
    const section = await runSibling(sibling);
    if (section === undefined) continue;
    process.stdout.write(`\n${section}\n`);
    sections.push(section);
  }
  const workDir = defaultOptimizerBenchOptions.workDir;
  await prepareWorkDir(workDir);
  await writeFile(`${workDir}results.md`, sections.join('\n'));
  process.stderr.write(`[bench] wrote ${workDir}results.md\n`);
}

await main(process.argv.slice(2));
