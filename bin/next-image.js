#!/usr/bin/env node
// Entry point of the `next-image` CLI. In a checkout the TypeScript sources run directly
// (Node 24 strips types); a packed install carries the compiled dist/ instead.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `next-image needs Node.js 24 or newer (this is ${process.version}). ` +
      'Run it through npm scripts (the project pins Node 24 as a devDependency) or install Node 24.\n',
  );
  process.exit(1);
}
// sharp runs on libuv's thread pool (default 4 threads); size it for one transform per CPU
// plus room for fs and DNS work. It must be set before the pool first starts.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  const { availableParallelism } = await import('node:os');
  process.env.UV_THREADPOOL_SIZE = String(Math.min(64, Math.max(4, availableParallelism() + 2)));
}
const source = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(source) ? source : compiled;
const { main } = await import(entry.href);
await main(process.argv.slice(2));
