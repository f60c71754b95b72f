// The acceptance step against the real Redis: first use, repeat while accepting (409), repeat after
// acceptance (replay), other body (422), a concurrent copy that waits for the first one's answer,
// and the same Kafka record redelivered (re-emitted).
import { randomUUID } from 'node:crypto';
import { accept } from '@booking/intake';
import { claim, replaceClaim } from '@booking/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient } from '../support/helpers.js';
import { requestBody } from '../support/pipeline.js';

const redis = redisClient();
afterAll(() => redis.disconnect());
const deps = {
  claim: (key: string, value: string, ttlMs: number) => claim(redis, key, value, ttlMs),
  topics: { requested: 'r', lifecycle: 'l' },
  idempotencyTtlMs: 60_000,
};

function input(overrides: Partial<Parameters<typeof accept>[1]> = {}) {
  const b = requestBody('cal-immediate-a');
  return {
    scope: 'http',
    source: 'http',
    idempotencyKey: `key-${randomUUID()}`,
    request: {
      patient: { ...b.patient },
      calendarId: b.calendarId,
      slot: b.slot,
      reason: null,
      deadline: null,
    },
    correlationId: 'c',
    ...overrides,
  };
}

describe('accept', () => {
  it('walks first use -> in progress -> accepted replay, and refuses another body', async () => {
    const req = input();
    const first = await accept(deps, req, 'accepting');
    expect(first.kind).toBe('accepted');
    if (first.kind !== 'accepted') return;
    expect(first.emits.map((e) => e.topic)).toEqual(['r', 'l']);
    expect((await accept(deps, req, 'accepting')).kind).toBe('in-progress');
    const other = await accept(deps, { ...req, request: { ...req.request, reason: 'other' } }, 'accepting');
    expect(other.kind).toBe('conflict');
    await replaceClaim(
      redis,
      first.claimKey,
      first.claimValue,
      first.claimValue.replace('"accepting"', '"accepted"'),
      60_000,
    );
    const replay = await accept(deps, req, 'accepting');
    expect(replay).toEqual({ kind: 'replay', appointmentId: first.appointmentId });
  });

  it('a concurrent copy waits for the first one: its 202 once accepted, or takes the key over when released (bounded)', async () => {
    const req = input();
    const first = await accept(deps, req, 'accepting', 30_000);
    if (first.kind !== 'accepted') throw new Error(`first: ${first.kind}`);
    const copy = accept(deps, req, 'accepting', 30_000, 5_000);
    await replaceClaim(
      redis,
      first.claimKey,
      first.claimValue,
      first.claimValue.replace('"accepting"', '"accepted"'),
      60_000,
    );
    expect(await copy).toEqual({ kind: 'replay', appointmentId: first.appointmentId });

    const other = input();
    const held = await accept(deps, other, 'accepting', 30_000);
    if (held.kind !== 'accepted') throw new Error(`held: ${held.kind}`);
    const waiting = accept(deps, other, 'accepting', 30_000, 5_000);
    await redis.del(held.claimKey); // the first attempt failed and released its claim
    expect((await waiting).kind).toBe('accepted');
    // Still held when the bound passes: in progress, as before.
    const third = input();
    await accept(deps, third, 'accepting', 30_000);
    expect((await accept(deps, third, 'accepting', 30_000, 100)).kind).toBe('in-progress');
  });

  it('gives a redelivered Kafka record its emits again, and a resubmission none', async () => {
    const req = input({ scope: 'kafka:clinic-a', source: 'clinic-a', origin: 'inbound/0/41' });
    const first = await accept(deps, req, 'accepted');
    const redelivered = await accept(deps, req, 'accepted');
    expect(redelivered.kind).toBe('accepted');
    expect(redelivered.appointmentId).toBe(first.appointmentId);
    const resubmitted = await accept(deps, { ...req, origin: 'inbound/0/99' }, 'accepted');
    expect(resubmitted.kind).toBe('replay');
  });

  it('derives the same appointment id from the same key, and another from another key', async () => {
    const a = input();
    const x = await accept(deps, a, 'accepted');
    const y = await accept(deps, { ...a, idempotencyKey: `key-${randomUUID()}` }, 'accepted');
    expect(x.appointmentId).not.toBe(y.appointmentId);
    expect(x.appointmentId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
