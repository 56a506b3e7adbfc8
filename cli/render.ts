import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { ImageOptimizerSchema } from '../api/image-optimizer.ts';
import { ConfigError, formatIssues } from '../lib/config-file.ts';
import { OPERATOR_DEFAULTS } from '../operator/config.ts';
import { render } from '../operator/render/render.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** The flags `next-image render` accepts (cli/help.ts describes each). */
export const FLAGS = {
  file: { type: 'string', short: 'f' },
  namespace: { type: 'string', short: 'n' },
  image: { type: 'string' },
  'valkey-image': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'valkey-password': { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

/** `next-image render -f cr.yaml`: the objects the operator would apply, as YAML, for GitOps without it. */
export async function runRender(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, FLAGS);
  const file = values.file;
  if (typeof file !== 'string')
    throw new UsageError('pass the ImageOptimizer file with -f <cr.yaml> ("-" for stdin)');
  const text =
    file === '-'
      ? await readStdin()
      : await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new ConfigError(file, [`cannot read the file (${error.code ?? 'unknown error'})`]);
        });
  const format = values.output ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`-o must be yaml or json, got "${String(format)}"`);
  const password =
    typeof values['valkey-password'] === 'string'
      ? values['valkey-password']
      : randomBytes(24).toString('hex');
  const rendered: object[] = [];
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0)
      throw new ConfigError(
        file,
        doc.errors.map((e) => `document ${index + 1}: ${e.message}`),
      );
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) continue;
    const parsed = ImageOptimizerSchema.safeParse(raw);
    if (!parsed.success)
      throw new ConfigError(
        file,
        formatIssues(parsed.error.issues).map((l) => `document ${index + 1}: ${l}`),
      );
    const cr = parsed.data;
    // Children need a namespace (discovery names it, and a wrong one breaks every relative
    // image URL), so it is never guessed: the CR's own, or -n.
    cr.metadata.namespace ??= typeof values.namespace === 'string' ? values.namespace : undefined;
    if (cr.metadata.namespace === undefined)
      throw new UsageError(
        `document ${index + 1} (${cr.metadata.name ?? 'unnamed'}) has no metadata.namespace: pass -n <namespace>`,
      );
    const { objects, warnings } = render(cr, {
      image: typeof values.image === 'string' ? values.image : OPERATOR_DEFAULTS.image,
      valkeyImage:
        typeof values['valkey-image'] === 'string'
          ? values['valkey-image']
          : OPERATOR_DEFAULTS.valkeyImage,
      clusterDomain:
        typeof values['cluster-domain'] === 'string'
          ? values['cluster-domain']
          : OPERATOR_DEFAULTS.clusterDomain,
      valkeyPassword: password,
    });
    for (const warning of warnings)
      process.stderr.write(`warning: ${cr.metadata.name}: ${warning}\n`);
    rendered.push(...objects);
  }
  if (format === 'json') {
    process.stdout.write(
      `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendered }, null, 2)}\n`,
    );
    return;
  }
  // Plain YAML: an object used twice (labels, selectors) is written out twice, never as an
  // anchor and alias, which some GitOps tools and every reviewer trip over.
  const docs = rendered.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
  process.stdout.write(docs.map((d) => `---\n${d}`).join(''));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
