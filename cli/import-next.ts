import { stringify } from 'yaml';
import { z } from 'zod';
import { API_VERSION, CrImagesSchema, ImageOptimizerSchema, KIND } from '../api/image-optimizer.ts';
import { ConfigError, formatIssues } from '../lib/config-file.ts';
import { readNextBuild } from '../lib/next-build.ts';
import { translateNextImages } from '../lib/next-images.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** The flags `next-image import-next` accepts (cli/help.ts describes each). */
export const IMPORT_NEXT_FLAGS = {
  format: { type: 'string', short: 'o' },
  name: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  fallback: { type: 'string' },
} as const;

/** The Service the CR fetches relative images from unless --fallback says otherwise. */
const DEFAULT_FALLBACK = 'frontend';

const FragmentSchema = z.strictObject({ images: CrImagesSchema });

interface Options {
  dir: string;
  format: 'yaml' | 'json';
  name: string | undefined;
  namespace: string | undefined;
  fallback: string;
}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseCommandArgs(argv, IMPORT_NEXT_FLAGS, true);
  const [dir, ...extra] = positionals;
  if (dir === undefined)
    throw new UsageError('pass the Next.js app directory (after `next build`): import-next <dir>');
  if (extra.length > 0)
    throw new UsageError(
      `one app directory only, got also ${extra.map((e) => `"${e}"`).join(' ')}`,
    );
  const format = values.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`--format must be yaml or json, got "${String(format)}"`);
  const str = (v: string | boolean | undefined): string | undefined =>
    typeof v === 'string' ? v : undefined;
  const name = str(values.name);
  if (name === undefined && (values.namespace !== undefined || values.fallback !== undefined))
    throw new UsageError(
      '--namespace and --fallback shape a whole ImageOptimizer: add --name <name>',
    );
  return {
    dir,
    format,
    name,
    namespace: str(values.namespace),
    fallback: str(values.fallback) ?? DEFAULT_FALLBACK,
  };
}

/** The document to print: `{images}` for spec.images, or a whole ImageOptimizer with --name. */
function document(options: Options, images: Record<string, unknown>): Record<string, unknown> {
  if (options.name === undefined) return { images };
  const metadata: Record<string, string> = { name: options.name };
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata,
    spec: { imageOptimizer: { fallback: options.fallback }, images },
  };
}

/** `next-image import-next <dir>`: a Next.js build's images config as the CR's spec.images. */
export async function runImportNext(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const build = await readNextBuild(options.dir);
  const { images, warnings } = translateNextImages(build);
  for (const warning of [...build.warnings, ...warnings])
    process.stderr.write(`next-image import-next: warning: ${warning}\n`);
  const doc = document(options, images);
  // The same schema the CRD is generated from: what is printed is what the API server accepts.
  const schema = options.name === undefined ? FragmentSchema : ImageOptimizerSchema;
  const checked = schema.safeParse(doc);
  if (!checked.success)
    throw new ConfigError(build.file, [
      ...formatIssues(checked.error.issues),
      'next-image cannot express this as an ImageOptimizer: change it in next.config and build again',
    ]);
  process.stdout.write(
    options.format === 'json'
      ? `${JSON.stringify(doc, null, 2)}\n`
      : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }),
  );
}
