import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPERATOR_DEFAULTS } from '../../operator/config.ts';
import { PRODUCT_IMAGE } from '../../scripts/image/build.ts';

// The release workflow cannot run here; what it publishes must be exactly what the chart,
// the operator and the local image build name, so a user who installs a release pulls an
// image that exists.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string };
const chart = parse(read('charts/next-image-operator/Chart.yaml')) as {
  version: string;
  appVersion: string;
  home: string;
};
const values = parse(read('charts/next-image-operator/values.yaml')) as {
  image: { repository: string; tag: string };
};
const workflow = parse(read('.github/workflows/release.yml')) as {
  on: { push: { tags: string[] } };
  env: { IMAGE: string };
  jobs: Record<
    string,
    { steps: { uses?: string; with?: Record<string, unknown>; run?: string }[] }
  >;
};
/** A GitHub Actions expression, `${{ … }}`, as the workflow spells it. */
const gh = (expr: string): string => `$\{{ ${expr} }}`;
/** The GitHub owner the chart's home names: what `github.repository_owner` is for us. */
const owner = /github\.com\/([^/]+)\//.exec(chart.home)?.[1];

describe('the release workflow, the chart, the operator and package.json agree', () => {
  it('publishes the image the chart and the operator default to', () => {
    expect(owner).toBe('next-image-operator');
    const published = workflow.env.IMAGE.replace(gh('github.repository_owner'), owner ?? '');
    expect(published).toBe(values.image.repository);
    const build = workflow.jobs.image?.steps.find((s) =>
      s.uses?.startsWith('docker/build-push-action'),
    );
    expect(build?.with?.tags).toBe(`${gh('env.IMAGE')}:${gh('needs.version.outputs.version')}`);
    expect(build?.with?.platforms).toBe('linux/amd64,linux/arm64');
    expect(build?.with).toMatchObject({ provenance: 'mode=max', sbom: true, push: true });
    // The chart's empty tag means appVersion; the operator's default is the same image.
    expect(values.image.tag).toBe('');
    expect(`${values.image.repository}:${chart.appVersion}`).toBe(OPERATOR_DEFAULTS.image);
    expect(PRODUCT_IMAGE).toBe(OPERATOR_DEFAULTS.image);
  });

  it('versions everything with package.json, and refuses a tag that is not it', () => {
    expect(chart.version).toBe(pkg.version);
    expect(chart.appVersion).toBe(pkg.version);
    expect(OPERATOR_DEFAULTS.image.endsWith(`:${pkg.version}`)).toBe(true);
    expect(workflow.on.push.tags).toEqual(['v*']);
    const check = workflow.jobs.version?.steps.find((s) => s.run?.includes('GITHUB_REF_NAME'))?.run;
    // The shell's own ${version}, inside the run script.
    expect(check).toContain(`"v$\{version}"`);
    expect(check).toContain(`appVersion: \\"$\{version}\\"`);
  });

  it('pushes the chart it packages, at the same version', () => {
    const push = workflow.jobs.chart?.steps.find((s) => s.run?.includes('helm push'))?.run ?? '';
    expect(push).toContain('helm package charts/next-image-operator');
    expect(push).toContain(`next-image-operator-${gh('needs.version.outputs.version')}.tgz`);
  });
});
