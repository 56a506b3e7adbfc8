import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from '../../counter.js';

// /photos/<any name>.jpg: public/mountains.jpg under as many distinct URLs as a test needs
// (each one a separate cache entry for the optimizer), every request counted.
export async function GET(request, { params }) {
  const { name } = await params;
  if (!/^[\w.-]+\.jpg$/.test(name)) return new Response('not found\n', { status: 404 });
  count(new URL(request.url).pathname);
  const body = await readFile(join(process.cwd(), 'public', 'mountains.jpg'));
  return new Response(body, {
    headers: { 'content-type': 'image/jpeg', 'cache-control': 'public, max-age=60' },
  });
}
