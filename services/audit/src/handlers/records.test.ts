// Audit's decisions, with the projection and the trail as plain fakes: the line each record
// becomes, an illegal transition alerted and not applied, personal data masked.
import { type ApplyResult, createLogger, lifecycleEvent, recordOf } from '@booking/kit';
import type { DeadLetter, LifecycleTransition, ReconciliationOutcome } from '@booking/schemas';
import { describe, expect, it } from 'vitest';
import type { AuditLine } from '../audit-log.js';
import {
  type AuditPorts,
  deadLetterHandler,
  lifecycleHandler,
  reconcilerDecisionHandler,
  unreadableLine,
} from './records.js';

const ID = '34963e3c-2864-885e-a293-e740cc9d7ef2';
const record = <T>(value: T, topic = 'life') =>
  recordOf(topic, value, { key: ID, partition: 1, offset: '12' });
function audit(applied: ApplyResult['kind'] = 'applied') {
  const lines: AuditLine[] = [];
  const alerts: string[] = [];
  const ports: AuditPorts = {
    apply: async () =>
      (applied === 'illegal' ? { kind: 'illegal', current: 'CONFIRMED' } : { kind: applied }) as ApplyResult,
    append: async (l) => {
      lines.push(...l);
    },
    alert: (k) => alerts.push(k),
    logger: createLogger({ service: 'test', level: 'silent' }),
    now: () => Date.parse('2027-01-01T00:00:00Z'),
  };
  return { ports, lines, alerts };
}
const event = (): LifecycleTransition =>
  lifecycleEvent({
    appointmentId: ID,
    from: 'DISPATCHING',
    to: 'CONFIRMED',
    actor: 'provider-dispatch',
    correlationId: 'c-1',
    bookingId: 'bk_1',
  });

describe('audit decides', () => {
  it('a legal transition: applied, one TRANSITION line, nothing written to Kafka', async () => {
    const a = audit();
    expect(await lifecycleHandler(a.ports)(record(event()))).toEqual({ kind: 'emit', emit: [] });
    expect(a.lines).toMatchObject([
      {
        kind: 'TRANSITION',
        appointmentId: ID,
        from: 'DISPATCHING',
        to: 'CONFIRMED',
        topic: 'life',
        offset: '12',
      },
    ]);
    expect(a.lines[0]?.duplicate).toBeUndefined();
    expect(a.alerts).toEqual([]);
  });

  it('a redelivered transition: the line again, marked duplicate', async () => {
    const a = audit('duplicate');
    await lifecycleHandler(a.ports)(record(event()));
    expect(a.lines[0]).toMatchObject({ kind: 'TRANSITION', duplicate: true });
  });

  it('an illegal transition: an ILLEGAL_TRANSITION line and an alert', async () => {
    const a = audit('illegal');
    await lifecycleHandler(a.ports)(record(event()));
    expect(a.lines[0]).toMatchObject({ kind: 'ILLEGAL_TRANSITION', alert: true });
    expect(a.lines[0]?.reason).toContain('while the appointment is CONFIRMED');
    expect(a.alerts).toEqual(['illegal_transition']);
  });

  it('a dead letter: a DEAD_LETTER line with the raw bytes masked', async () => {
    const a = audit();
    const letter = {
      appointmentId: ID,
      reason: 'VALIDATION_FAILED',
      errorClass: 'Error',
      errorMessage: 'x',
      fieldErrors: [],
      originalTopic: 'in',
      originalPartition: 0,
      originalOffset: 3,
      originalKey: null,
      originalValue: Buffer.from('{"patient":{"name":"Jane Roe"}}'),
      originalHeaders: {},
      attempts: 1,
      firstSeenAt: 1,
      deadLetteredAt: 2,
      deadline: null,
      correlationId: 'c-1',
    } satisfies DeadLetter;
    await deadLetterHandler(a.ports)(record(letter, 'dlt'));
    expect(a.lines[0]).toMatchObject({ kind: 'DEAD_LETTER', reason: 'VALIDATION_FAILED' });
    expect(JSON.stringify(a.lines)).not.toContain('Jane Roe');
  });

  it("the reconciler's decision: a RECONCILER_DECISION line with the bookings it saw", async () => {
    const a = audit();
    const decision: ReconciliationOutcome = {
      appointmentId: ID,
      decision: 'COMPENSATE',
      bookingIds: ['bk_1'],
      reason: 'booking exists but the deadline has passed',
      decidedAt: 5,
      correlationId: 'c-1',
      trigger: 'DEAD_LETTER',
    };
    await reconcilerDecisionHandler(a.ports)(record(decision, 'rec'));
    expect(a.lines[0]).toMatchObject({
      kind: 'RECONCILER_DECISION',
      appointmentId: ID,
      reason: 'COMPENSATE: booking exists but the deadline has passed',
      payload: { decision: 'COMPENSATE', bookingIds: ['bk_1'], trigger: 'DEAD_LETTER' },
    });
  });

  it('a record it cannot read: an ALERT line, the key hashed unless it is an appointment id', () => {
    const source = {
      topic: 'life',
      partition: 2,
      message: { key: Buffer.from('jane@example.com'), value: null, offset: '9' },
    };
    const line = unreadableLine(source, new Error('bad magic byte'), 'DECODE_FAILED', 0);
    expect(line).toMatchObject({
      kind: 'ALERT',
      alert: true,
      reason: 'DECODE_FAILED: bad magic byte',
      offset: '9',
    });
    expect(line.appointmentId).toMatch(/^sha256:/);
    expect(
      unreadableLine({ ...source, message: { ...source.message, key: Buffer.from(ID) } }, 'x', 'R', 0)
        .appointmentId,
    ).toBe(ID);
  });
});
