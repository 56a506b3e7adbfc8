/** The command that regenerates every file under scripts/packaging's care. */
export const GENERATE_COMMAND = 'npm run generate:packaging';

/** A generated file: where it lives (relative to the repository root) and its text. */
export interface GeneratedFile {
  path: string;
  text: string;
}

/** The "generated — do not edit" header, in the comment syntax of the target file. */
export function generatedHeader(source: string, comment: (line: string) => string): string {
  return [
    comment('generated — do not edit.'),
    comment(`Source: ${source}.`),
    comment(`Regenerate with: ${GENERATE_COMMAND}`),
  ].join('\n');
}
