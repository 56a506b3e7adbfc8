import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Discovery } from '../../lib/discovery.ts';
import { ImageError, isRetryable, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { closeFetchAgents } from './agents.ts';
import { fetchExternalImage } from './external.ts';
import { DnsLookupError, markRetryable, UpstreamConnectionError } from './fetch-errors.ts';
import { fetchInternalImage } from './internal.ts';
import { backoffDelay, fetchWithRetries, type RetryInfo } from './retry.ts';
import {
  type Fixture,
  failure,
  mapLookup,
  PNG,
  socketClosed,
  startFixture,
} from './test-support/fixture-server.ts';

const IMAGE: UpstreamImage = {
  buffer: PNG,
  contentType: 'image/png',
  cacheControl: null,
  etag: null,
};
const noJitter = (): number => 0;

/** An attempt that fails with `errors` in turn, then succeeds; counts its calls. */
function scripted(errors: unknown[]): {
  attempt: () => Promise<UpstreamImage>;
  calls: () => number;
} {
  let calls = 0;
  return {
    attempt: async () => {
      const error = errors[calls];
      calls += 1;
      if (error !== undefined) throw error;
      return IMAGE;
    },
    calls: () => calls,
  };
}

describe('backoffDelay', () => {
  it.each([
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.5, 200],
    [5, 0.999, 1598],
    [6, 0.999, 1998],
    [30, 0.999, 1998],
    [4, 0, 0],
  ])(
    'retry %i with random %d → %i ms (base 100, cap 2000, full jitter)',
    (retry, random, expected) => {
      expect(backoffDelay(retry, () => random, 100, 2000)).toBe(expected);
    },
  );
});

describe('fetchWithRetries (scripted attempts)', () => {
  const signal = (): AbortSignal => new AbortController().signal;

  it('returns the first success without retrying', async () => {
    const { attempt, calls } = scripted([]);
    const retries: RetryInfo[] = [];
    await expect(
      fetchWithRetries(attempt, {
        maxAttempts: 3,
        signal: signal(),
        onRetry: (info) => retries.push(info),
      }),
    ).resolves.toBe(IMAGE);
    expect(calls()).toBe(1);
    expect(retries).toEqual([]);
  });

  it.each([
    ['404', new ImageError(404, MESSAGES.upstreamInvalid)],
    ['413', new ImageError(413, MESSAGES.upstreamInvalid)],
    ['508', new ImageError(508, MESSAGES.upstreamInvalid)],
    ['an SSRF refusal', new ImageError(400, MESSAGES.notAllowed)],
    ['an invalid image', new ImageError(400, MESSAGES.notValidImage)],
    ['an unmarked 500 (3xx without Location)', new ImageError(500, MESSAGES.upstreamInvalid)],
    ['a DNS NXDOMAIN', new DnsLookupError('nowhere.test')],
    ['a plain error', new TypeError('bug')],
  ])('never retries %s and rethrows it unchanged', async (_name, error) => {
    const { attempt, calls } = scripted([error, error, error]);
    expect(
      await failure(
        fetchWithRetries(attempt, { maxAttempts: 3, signal: signal(), random: noJitter }),
      ),
    ).toBe(error);
    expect(calls()).toBe(1);
  });

  it('retries retryable failures up to maxAttempts and throws the last one unchanged', async () => {
    const errors = [1, 2, 3].map(() =>
      markRetryable(new ImageError(500, MESSAGES.upstreamInvalid)),
    );
    const { attempt, calls } = scripted(errors);
    const retries: RetryInfo[] = [];
    const error = await failure(
      fetchWithRetries(attempt, {
        maxAttempts: 3,
        signal: signal(),
        random: noJitter,
        onRetry: (info) => retries.push(info),
      }),
    );
    expect(error).toBe(errors[2]);
    expect(calls()).toBe(3);
    expect(retries).toEqual([
      { attempt: 1, error: errors[0], delayMs: 0 },
      { attempt: 2, error: errors[1], delayMs: 0 },
    ]);
  });

  it('retries an unmarked connection reset', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { attempt, calls } = scripted([reset]);
    await expect(
      fetchWithRetries(attempt, { maxAttempts: 2, signal: signal(), random: noJitter }),
    ).resolves.toBe(IMAGE);
    expect(calls()).toBe(2);
  });

  it('makes at least one attempt when maxAttempts is below 1', async () => {
    const { attempt, calls } = scripted([]);
    await fetchWithRetries(attempt, { maxAttempts: 0, signal: signal() });
    expect(calls()).toBe(1);
  });

  it('times out an attempt that ignores its signal: 504, retried, and the signal it got is aborted', async () => {
    const seen: AbortSignal[] = [];
    const error = await failure(
      fetchWithRetries(
        (attemptSignal) => {
          seen.push(attemptSignal);
          return new Promise(() => {});
        },
        { maxAttempts: 2, attemptTimeoutMs: 20, signal: signal(), random: noJitter },
      ),
    );
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ statusCode: 504, message: MESSAGES.upstreamTimeout });
    expect(isRetryable(error)).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });

  it('rejects with the job signal reason and aborts the attempt in flight', async () => {
    const controller = new AbortController();
    const reason = new Error('job budget spent');
    let attemptSignal: AbortSignal | undefined;
    const pending = failure(
      fetchWithRetries(
        (s) => {
          attemptSignal = s;
          return new Promise(() => {});
        },
        { maxAttempts: 3, signal: controller.signal },
      ),
    );
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(attemptSignal?.aborted).toBe(true);
    expect(attemptSignal?.reason).toBe(reason);
  });

  it('stops a backoff sleep when the job signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('job budget spent');
    const { attempt, calls } = scripted([
      markRetryable(new ImageError(503, MESSAGES.upstreamInvalid)),
    ]);
    const pending = failure(
      fetchWithRetries(attempt, {
        maxAttempts: 3,
        signal: controller.signal,
        baseDelayMs: 3_600_000,
        maxDelayMs: 3_600_000,
        random: () => 0.5,
        onRetry: () => controller.abort(reason),
      }),
    );
    expect(await pending).toBe(reason);
    expect(calls()).toBe(1);
  });

  it('does not start when the job signal is already aborted', async () => {
    const { attempt, calls } = scripted([]);
    const reason = new Error('already spent');
    expect(
      await failure(
        fetchWithRetries(attempt, { maxAttempts: 3, signal: AbortSignal.abort(reason) }),
      ),
    ).toBe(reason);
    expect(calls()).toBe(0);
  });

  it('gives up with the last error when the backoff would reach the deadline', async () => {
    const error = markRetryable(new ImageError(502, MESSAGES.upstreamInvalid));
    const { attempt, calls } = scripted([error]);
    const retries: RetryInfo[] = [];
    const thrown = await failure(
      fetchWithRetries(attempt, {
        maxAttempts: 3,
        signal: signal(),
        random: () => 0.5,
        baseDelayMs: 1_000_000,
        deadline: Date.now() + 1000,
        onRetry: (info) => retries.push(info),
      }),
    );
    expect(thrown).toBe(error);
    expect(calls()).toBe(1);
    expect(retries).toEqual([]);
  });
});

describe('fetchWithRetries over HTTP', () => {
  let fixture: Fixture;
  const lookup = mapLookup({ 'public.test': ['127.0.0.1'] });
  const limits = {
    maximumResponseBody: 1_000_000,
    maximumRedirects: 3,
    dangerouslyAllowLocalIP: false,
    lookup,
    isAllowedAddress: (address: string): boolean => address === '127.0.0.1',
  };
  const external =
    (path: string, port?: number) =>
    (signal: AbortSignal): Promise<UpstreamImage> =>
      fetchExternalImage(`http://public.test:${port ?? fixture.port}${path}`, {
        ...limits,
        signal,
      });

  /** Answers each request with the next status of `statuses`, then 200 with an image. */
  function sequence(path: string, statuses: number[]): void {
    let index = 0;
    fixture.route(path, (_req, res) => {
      const status = statuses[index];
      index += 1;
      if (status === undefined) {
        res.end(PNG);
        return;
      }
      res.statusCode = status;
      res.end('try again');
    });
  }

  beforeEach(async () => {
    fixture = await startFixture();
  });

  afterEach(async () => {
    await fixture.close();
  });

  afterAll(async () => {
    await closeFetchAgents();
  });

  it('succeeds after 500 twice, with 3 requests at the upstream', async () => {
    sequence('/flaky', [500, 500]);
    const retries: RetryInfo[] = [];
    const image = await fetchWithRetries(external('/flaky'), {
      maxAttempts: 3,
      signal: AbortSignal.timeout(20_000),
      random: noJitter,
      onRetry: (info) => retries.push(info),
    });
    expect(image.buffer).toEqual(PNG);
    expect(fixture.count('/flaky')).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('answers 500 three times with exactly Next 500 after 3 requests', async () => {
    sequence('/down', [500, 500, 500]);
    const error = await failure(
      fetchWithRetries(external('/down'), {
        maxAttempts: 3,
        signal: AbortSignal.timeout(20_000),
        random: noJitter,
      }),
    );
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ statusCode: 500, message: MESSAGES.upstreamInvalid });
    expect(fixture.count('/down')).toBe(3);
  });

  it('retries 429', async () => {
    sequence('/busy', [429]);
    const image = await fetchWithRetries(external('/busy'), {
      maxAttempts: 3,
      signal: AbortSignal.timeout(20_000),
      random: noJitter,
    });
    expect(image.buffer).toEqual(PNG);
    expect(fixture.count('/busy')).toBe(2);
  });

  it('does not retry 404: one request at the upstream', async () => {
    sequence('/missing', [404, 404, 404]);
    const error = await failure(
      fetchWithRetries(external('/missing'), {
        maxAttempts: 3,
        signal: AbortSignal.timeout(20_000),
        random: noJitter,
      }),
    );
    expect(error).toMatchObject({ statusCode: 404, message: MESSAGES.upstreamInvalid });
    expect(fixture.count('/missing')).toBe(1);
  });

  it('does not retry a too-large body', async () => {
    fixture.route('/big', (_req, res) => res.end(Buffer.alloc(4096)));
    const error = await failure(
      fetchWithRetries(
        (signal) =>
          fetchExternalImage(`http://public.test:${fixture.port}/big`, {
            ...limits,
            maximumResponseBody: 1024,
            signal,
          }),
        { maxAttempts: 3, signal: AbortSignal.timeout(20_000), random: noJitter },
      ),
    );
    expect(error).toMatchObject({ statusCode: 413 });
    expect(fixture.count('/big')).toBe(1);
  });

  it('retries a hanging upstream per attempt timeout, then answers 504, closing every connection', async () => {
    fixture.route('/hang', () => {});
    const error = await failure(
      fetchWithRetries(external('/hang'), {
        maxAttempts: 3,
        attemptTimeoutMs: 150,
        signal: AbortSignal.timeout(20_000),
        random: noJitter,
      }),
    );
    expect(error).toMatchObject({ statusCode: 504, message: MESSAGES.upstreamTimeout });
    expect(fixture.count('/hang')).toBe(3);
    await Promise.all(fixture.requests.map((request) => socketClosed(request.socket)));
  });

  it('aborting the job signal rejects with its reason and closes the upstream connection', async () => {
    fixture.route('/hang', () => {});
    const controller = new AbortController();
    const reason = new Error('job timeout');
    const pending = failure(
      fetchWithRetries(external('/hang'), {
        maxAttempts: 3,
        signal: controller.signal,
        random: noJitter,
      }),
    );
    const request = await fixture.nextRequest('/hang');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await socketClosed(request.socket);
    expect(fixture.count('/hang')).toBe(1);
  });

  it('retries a refused connection and ends with the connection error (Next: 500)', async () => {
    const closed = await startFixture();
    await closed.close();
    const retries: RetryInfo[] = [];
    const error = await failure(
      fetchWithRetries(external('/img', closed.port), {
        maxAttempts: 3,
        signal: AbortSignal.timeout(20_000),
        random: noJitter,
        onRetry: (info) => retries.push(info),
      }),
    );
    expect(error).toBeInstanceOf(UpstreamConnectionError);
    expect(retries).toHaveLength(2);
  });

  it('retries an internal 503 from the fallback application', async () => {
    sequence('/img.png', [503]);
    const discovery = new Discovery({ apps: { frontend: fixture.url } });
    const image = await fetchWithRetries(
      (signal) =>
        fetchInternalImage('/img.png', {
          fallback: new URL('http://frontend.plt.local'),
          discovery,
          maximumResponseBody: 1_000_000,
          signal,
        }),
      { maxAttempts: 3, signal: AbortSignal.timeout(20_000), random: noJitter },
    );
    expect(image.buffer).toEqual(PNG);
    expect(fixture.count('/img.png')).toBe(2);
  });
});
