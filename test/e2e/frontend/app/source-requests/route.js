import { connection } from 'next/server';
import { snapshot } from '../counter.js';

// GET /source-requests: how many times each /photos/ path was fetched from this pod.
export async function GET() {
  await connection();
  return Response.json(snapshot());
}
