import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ImagesConfig } from '../api/images-config.ts';
import { formatIssues } from '../lib/config-file.ts';
import { invalidSources, planSources } from '../lib/prewarm/plan.ts';
import {
  emptyProgress,
  PREWARM_DEFAULTS,
  type PrewarmFetch,
  type PrewarmSummary,
  runPrewarm,
} from '../lib/prewarm/runner.ts';
import { parseJsonBodiesOnly } from './admin-body.ts';
import { bearer, sameToken } from './purge-route.ts';

/** Where prewarm jobs are started (POST) and watched (GET /<id>), on the optimizer's port. */
export const PREWARM_PATH = '/__admin/prewarm';

/** Bounds of one job: a replica warms in the background, it must not be asked to hold a catalogue. */
export const PREWARM_LIMITS = {
  sources: 10_000,
  targets: 100_000,
  /** Finished jobs kept for GET, oldest dropped first. */
  keptJobs: 32,
  /** Default in-flight requests of a job: below the transform slots, so live misses still fit. */
  concurrency: 2,
} as const;

const PrewarmRequestSchema = z.strictObject({
  urls: z.array(z.string().min(1)).min(1).max(PREWARM_LIMITS.sources),
  widths: z.array(z.number().int().min(1).max(10_000)).min(1).max(64).optional(),
  qualities: z.array(z.number().int().min(1).max(100)).min(1).max(20).optional(),
  accept: z
    .array(z.string().regex(/^[a-z*]+\/[a-z0-9.+*-]+$/i))
    .min(1)
    .max(8)
    .optional(),
  deploymentId: z.string().max(256).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
});

interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  summary: PrewarmSummary;
  controller: AbortController;
}

export interface PrewarmRouteOptions {
  /** `optimizer.purgeToken`: the same Bearer token as purge; without one the routes do not exist. */
  token: string | undefined;
  images: ImagesConfig;
}

/**
 * `POST /__admin/prewarm` with `{"urls": [...], "widths"?, "qualities"?, "accept"?}` and the
 * purge token starts a background job on this replica that requests every variant through its
 * own /_next/image (so a shared storage fills for every replica): 202 `{id, total}` with
 * `Location`; `GET /__admin/prewarm/<id>` reports progress. One job runs at a time (409 while
 * one does); 503s from a full queue are waited out like the CLI does.
 */
export const prewarmRoute: FastifyPluginAsync<PrewarmRouteOptions> = async (app, options) => {
  const { token, images } = options;
  if (token === undefined || token === '') return;
  const jobs = new Map<string, Job>();
  parseJsonBodiesOnly(app, 4 * 1024 * 1024);

  app.addHook('onRequest', async (request, reply) => {
    const given = bearer(request);
    if (given === undefined || !sameToken(given, token)) {
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="next-image prewarm"').send({
        error: 'Unauthorized',
        message: 'send Authorization: Bearer <optimizer.purgeToken>',
      });
    }
  });
  app.addHook('onClose', async () => {
    for (const job of jobs.values()) job.controller.abort(new Error('the optimizer is closing'));
  });

  const inject: PrewarmFetch = async (target) => {
    const res = await app.inject({
      method: 'GET',
      url: target.path,
      headers: { accept: target.accept },
    });
    const header = (name: string): string | undefined => {
      const value = res.headers[name];
      return value === undefined ? undefined : String(value);
    };
    return {
      status: res.statusCode,
      cache: header('x-nextjs-cache'),
      retryAfter: header('retry-after'),
      bytes: res.rawPayload.length,
    };
  };

  app.post(PREWARM_PATH, async (request, reply) => {
    const parsed = PrewarmRequestSchema.safeParse(request.body);
    if (!parsed.success)
      return reply.code(400).send({
        error: 'Bad Request',
        message: `send JSON {"urls": ["/img.jpg", "https://…"], "widths"?, "qualities"?, "accept"?}: ${formatIssues(parsed.error.issues).join('; ')}`,
      });
    const body = parsed.data;
    const invalid = invalidSources(body.urls);
    if (invalid.length > 0)
      return reply.code(400).send({
        error: 'Bad Request',
        message: `each url is a /relative path or an http(s) URL; not: ${invalid.slice(0, 5).join(', ')}`,
      });
    const running = [...jobs.values()].find((j) => j.state === 'running');
    if (running !== undefined)
      return reply
        .code(409)
        .header('Location', `${PREWARM_PATH}/${running.id}`)
        .send({
          error: 'Conflict',
          message: `prewarm ${running.id} is still running`,
          id: running.id,
        });
    const targets = planSources(body.urls, images, body);
    if (targets.length > PREWARM_LIMITS.targets)
      return reply.code(400).send({
        error: 'Bad Request',
        message: `${targets.length} requests is more than ${PREWARM_LIMITS.targets} for one job: send fewer urls, widths or formats`,
      });
    const job = startJob(targets, body.concurrency ?? PREWARM_LIMITS.concurrency);
    request.log.info({ prewarm: job.id, total: targets.length }, 'prewarm started');
    return reply
      .code(202)
      .header('Location', `${PREWARM_PATH}/${job.id}`)
      .send({ id: job.id, total: targets.length });
  });

  app.get<{ Params: { id: string } }>(`${PREWARM_PATH}/:id`, async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (job === undefined)
      return reply
        .code(404)
        .send({ error: 'Not Found', message: `no prewarm ${request.params.id} on this replica` });
    return { id: job.id, state: job.state, ...job.summary };
  });

  function startJob(targets: ReturnType<typeof planSources>, concurrency: number): Job {
    const started = Date.now();
    const job: Job = {
      id: randomUUID(),
      state: 'running',
      controller: new AbortController(),
      summary: { ...emptyProgress(targets.length), elapsedMs: 0, failures: [] },
    };
    jobs.set(job.id, job);
    for (const old of [...jobs.keys()].slice(0, Math.max(0, jobs.size - PREWARM_LIMITS.keptJobs)))
      jobs.delete(old);
    runPrewarm(targets, {
      fetch: inject,
      concurrency,
      retries: PREWARM_DEFAULTS.retries,
      maxRetryAfterMs: PREWARM_DEFAULTS.maxRetryAfterMs,
      signal: job.controller.signal,
      onProgress: (p) => {
        job.summary = { ...job.summary, ...p, elapsedMs: Date.now() - started };
      },
    }).then(
      (summary) => {
        job.summary = summary;
        job.state = 'done';
        app.log.info({ prewarm: job.id, ...summary, failures: undefined }, 'prewarm finished');
      },
      (error: unknown) => {
        job.state = 'failed';
        job.summary = { ...job.summary, elapsedMs: Date.now() - started };
        app.log.warn({ prewarm: job.id, err: error }, 'prewarm stopped');
      },
    );
    return job;
  }
};
