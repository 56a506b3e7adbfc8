import { ConfigError } from '../lib/config-file.ts';
import { UsageError } from './args.ts';
import { COMMAND_HELP, packageVersion, wantsHelp } from './help.ts';

type Command = { summary: string; run: (argv: string[]) => Promise<void> };

// Each command lives in its own file and is loaded only when used, so `next-image crd`
// does not pay for sharp and `next-image optimizer` does not load the Kubernetes client.
const commands: Record<string, Command> = {
  optimizer: {
    summary: 'serve /_next/image (--config <file.json> [--host] [--port])',
    run: async (argv) => (await import('./optimizer.ts')).runOptimizer(argv),
  },
  gateway: {
    summary: 'proxy to optimizer and frontend (--config <file.json> [--host] [--port])',
    run: async (argv) => (await import('./gateway.ts')).runGateway(argv),
  },
  dev: {
    summary: 'gateway + optimizer + samples ([--port 3042] [--fallback <url>] [--public <dir>])',
    run: async (argv) => (await import('./dev.ts')).runDev(argv),
  },
  crd: {
    summary: 'print the ImageOptimizer CRD ([-o file])',
    run: async (argv) => (await import('./crd.ts')).runCrd(argv),
  },
  render: {
    summary: 'print what an ImageOptimizer becomes (-f cr.yaml [-n ns])',
    run: async (argv) => (await import('./render.ts')).runRender(argv),
  },
  prewarm: {
    summary: 'fill the cache before a launch (--gateway <url> --urls <file|-> | --sitemap <url>)',
    run: async (argv) => (await import('./prewarm.ts')).runPrewarmCommand(argv),
  },
  'import-next': {
    summary: "print a Next.js build's images config as an ImageOptimizer (<app-dir> [--name])",
    run: async (argv) => (await import('./import-next.ts')).runImportNext(argv),
  },
  operator: {
    summary: 'reconcile ImageOptimizer resources (--namespaces, --image, --leader-elect, …)',
    run: async (argv) => (await import('./operator.ts')).runOperator(argv),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return `Usage: next-image <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nnext-image <command> --help describes one; next-image --version prints the version.\n`;
}

/** Runs the CLI; exits non-zero with a clear message on bad input. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    if (name === undefined) process.exitCode = 2;
    return;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`next-image: unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(COMMAND_HELP[name] ?? usage());
    return;
  }
  try {
    await command.run(rest);
  } catch (error: unknown) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`next-image ${name}: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
