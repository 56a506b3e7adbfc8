import { writeFile } from 'node:fs/promises';
import { renderCrdYaml } from '../operator/crd/crd.ts';
import { parseCommandArgs } from './args.ts';

/** The flags `next-image crd` accepts (cli/help.ts describes each). */
export const CRD_FLAGS = { output: { type: 'string', short: 'o' } } as const;

/** `next-image crd [-o file]`: prints (or writes) the ImageOptimizer CRD. */
export async function runCrd(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, CRD_FLAGS);
  const yaml = renderCrdYaml();
  if (typeof values.output === 'string') await writeFile(values.output, yaml);
  else process.stdout.write(yaml);
}
