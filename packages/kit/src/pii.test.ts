import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, hashKey, redactPaths } from './logger.js';
import { allPiiPaths, MASK, maskPii, piiPaths } from './pii.js';

const request = {
  appointmentId: 'apt-1',
  source: 'clinic-a',
  idempotencyKeyHash: 'abc',
  patient: { id: 'p-77', name: 'Ada Lovelace', phone: '+447700900123', email: 'ada@example.org' },
  calendarId: 'cal-immediate-1',
  slot: { start: '2030-01-01T09:00:00+01:00', end: '2030-01-01T09:30:00+01:00', timezone: 'Europe/London' },
  reason: 'chest pain',
  deadline: null,
  acceptedAt: 1,
  correlationId: 'c-1',
};

describe('PII follows the schema marks', () => {
  it('finds the marked fields of a contract, nested ones included', () => {
    expect(piiPaths('InboundRequest').sort()).toEqual([
      'patient.email',
      'patient.name',
      'patient.phone',
      'reason',
    ]);
    expect(piiPaths('DeadLetter')).toEqual(['originalValue']);
    expect(allPiiPaths()).toContain('rawBase64');
  });

  it('masks marked fields, keeps the rest and leaves the input untouched', () => {
    const masked = maskPii('AppointmentRequested', request);
    expect(masked.patient).toEqual({ id: 'p-77', name: MASK, phone: MASK, email: MASK });
    expect(masked.reason).toBe(MASK);
    expect(masked.calendarId).toBe('cal-immediate-1');
    expect(request.patient.name).toBe('Ada Lovelace');
  });

  it('keeps null PII fields null (absence is information, not PII)', () => {
    const masked = maskPii('AppointmentRequested', {
      ...request,
      patient: { ...request.patient, phone: null },
    });
    expect(masked.patient.phone).toBeNull();
  });
});

describe('logger', () => {
  function capture() {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { lines, logger: createLogger({ service: 'test', destination }) };
  }

  it('never writes patient names, phones, emails, reasons or secrets, top level or in a logged record', () => {
    const { lines, logger } = capture();
    logger.info({ request }, 'a request');
    logger.info({ value: request }, 'a decoded record');
    logger.info({ req: { body: request } }, 'an HTTP body');
    logger.info(request, 'top level');
    logger.info(
      { headers: { authorization: 'Bearer sk-live-123' }, apiKey: 'k-9', idempotencyKey: 'idem-42' },
      'secrets',
    );
    const out = lines.join('');
    for (const secret of [
      'Ada Lovelace',
      '+447700900123',
      'ada@example.org',
      'chest pain',
      'sk-live-123',
      'k-9',
      'idem-42',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('apt-1');
    expect(out).toContain(MASK);
  });

  it('redacts by explicit paths only (no wildcard: each costs tens of µs a line), covering every pii mark', () => {
    const paths = redactPaths();
    expect(paths.filter((p) => p.includes('*'))).toEqual([]);
    for (const pii of allPiiPaths()) expect(paths).toContain(pii);
  });

  it('writes JSON lines with service, level label and message', () => {
    const { lines, logger } = capture();
    logger.warn({ appointmentId: 'apt-2' }, 'hello');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ service: 'test', level: 'warn', appointmentId: 'apt-2', msg: 'hello' });
  });

  it('hashes keys stably and one-way', () => {
    expect(hashKey('idem-42')).toBe(hashKey('idem-42'));
    expect(hashKey('idem-42')).not.toContain('idem');
    expect(hashKey('idem-42')).toHaveLength(16);
  });
});
