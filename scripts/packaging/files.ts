import { chartCrd } from './chart-crd.ts';
import { chartRbac } from './chart-rbac.ts';
import { crdReference } from './crd-reference.ts';
import { dashboardFiles } from './dashboard.ts';
import type { GeneratedFile } from './generated.ts';

/** Every file `npm run generate:packaging` writes, rendered from the sources. */
export function packagingFiles(): GeneratedFile[] {
  return [chartCrd(), chartRbac(), crdReference(), ...dashboardFiles()];
}
