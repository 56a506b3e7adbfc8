import { afterAll, describe, expect, it } from 'vitest';
import { closeFetchAgents, externalAgent, internalAgent } from './agents.ts';

afterAll(async () => {
  await closeFetchAgents();
});

describe('fetch agents', () => {
  it('shares one keep-alive agent per kind in the process', () => {
    expect(externalAgent()).toBe(externalAgent());
    expect(internalAgent()).toBe(internalAgent());
    expect(externalAgent()).not.toBe(internalAgent());
  });

  it('closes both on shutdown and opens fresh ones afterwards', async () => {
    const external = externalAgent();
    const internal = internalAgent();
    await closeFetchAgents();
    expect(external.closed).toBe(true);
    expect(internal.closed).toBe(true);
    expect(externalAgent()).not.toBe(external);
    await closeFetchAgents();
    await expect(closeFetchAgents()).resolves.toBeUndefined();
  });
});
