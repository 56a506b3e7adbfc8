import { writeFile } from 'node:fs/promises';
import { renderCrdYaml } from '../operator/crd/crd.ts';
import { parseCommandArgs } from './args.ts';

/** `next-image crd [-o file]`: prints (or writes) the ImageOptimizer CRD. */
export async function runCrd(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, { output: { type: 'string', short: 'o' } });
  const yaml = renderCrdYaml();
  if (typeof values.output === 'string') await writeFile(values.output, yaml);
  else process.stdout.write(yaml);
}
