// Project A: the legacy booking service, reconstructed (docs/design.md, "The legacy, reconstructed").
// Written the way the brief describes it and the way services of its age were written: node:http,
// callbacks, the provider called inline inside the client's request, state in one JSON file.
// Its faults are kept on purpose; each is marked LEGACY FAULT and listed in docs/design.md.
// Not reconstructed: its original logging (it is inferred to have logged request bodies; this
// copy logs ids and statuses only, so the comparison's logs hold no personal data).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const PORT = Number(process.env.LEGACY_PORT || 3200);
const PROVIDER = new URL(process.env.PROVIDER_URL || 'http://127.0.0.1:4010');
const TOKEN = process.env.PROVIDER_TOKEN || '';
const STATE_FILE = process.env.LEGACY_STATE_FILE || path.join('.legacy', 'bookings.json');

let inflight = 0;

function log(fields, msg) {
  process.stdout.write(
    `${JSON.stringify({ time: Date.now(), service: 'legacy', pid: process.pid, ...fields, msg })}\n`,
  );
}

// The whole store is read and rewritten on every change, synchronously.
function loadDb() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return { bookings: {} };
  }
}

function saveBooking(record) {
  const db = loadDb();
  db.bookings[record.id] = record;
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(db));
}

function reply(res, status, body) {
  inflight--;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// LEGACY FAULT (no timeout): no req.setTimeout, no AbortSignal. A slow provider holds this request,
// the client's socket and this record open for as long as the provider takes; a client that gives
// up does not cancel the call, which still books.
function createAtProvider(payload, callback) {
  const data = JSON.stringify(payload);
  const req = http.request(
    {
      host: PROVIDER.hostname,
      port: PROVIDER.port,
      path: '/api/v2/appointments',
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(data),
      },
    },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => callback(null, res.statusCode, body));
    },
  );
  req.on('error', (err) => callback(err));
  req.end(data);
}

function book(input, res) {
  // LEGACY FAULT (no idempotency): every submit is a new booking with a new id; a retried or
  // doubled submit books the slot again.
  const id = crypto.randomUUID();
  const started = Date.now();
  const payload = {
    externalRef: id,
    calendarId: input.calendarId,
    slot: input.slot,
    patient: { ref: input.patient.id, displayName: input.patient.name },
    ...(input.reason ? { reason: input.reason } : {}),
  };
  createAtProvider(payload, (err, status, body) => {
    const base = { id, calendarId: input.calendarId, slot: input.slot, patient: input.patient };
    if (err) {
      // LEGACY FAULT (ghost bookings): a lost answer is recorded as a failure, with no look-up; the
      // provider may well have committed the booking.
      saveBooking({ ...base, status: 'FAILED', error: err.code || err.message, updatedAt: Date.now() });
      log({ bookingRef: id, error: err.code, ms: Date.now() - started }, 'provider call failed');
      return reply(res, 502, { error: 'PROVIDER_UNAVAILABLE' });
    }
    if (status >= 400) {
      const error = safeParse(body).error || `HTTP ${status}`;
      saveBooking({ ...base, status: 'FAILED', providerStatus: status, error, updatedAt: Date.now() });
      log({ bookingRef: id, providerStatus: status, ms: Date.now() - started }, 'booking refused');
      const clientError = status < 500 && status !== 429;
      return reply(res, clientError ? 422 : 502, {
        error: clientError ? 'BOOKING_REFUSED' : 'PROVIDER_ERROR',
      });
    }
    const booking = JSON.parse(body);
    if (booking.status !== 'CONFIRMED') {
      // LEGACY FAULT (202 crash): written for a provider that always confirmed. The throw was meant
      // for the handler's catch below, but this runs later, in the response callback, outside any
      // try: it is an uncaught exception and the process exits, taking every request in flight with
      // it. The provider keeps the booking; nothing is recorded here.
      throw new Error(`booking not confirmed: ${booking.status}`);
    }
    saveBooking({ ...base, status: 'CONFIRMED', bookingId: booking.bookingId, updatedAt: Date.now() });
    log({ bookingRef: id, bookingId: booking.bookingId, ms: Date.now() - started }, 'booked');
    return reply(res, 201, { id, status: 'CONFIRMED', bookingId: booking.bookingId });
  });
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    // Added for the comparison harness (the original's health check is unknown): the number of
    // requests in flight tells the harness when every answer has been written.
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ status: 'ok', inflight }));
  }
  if (req.method === 'GET' && req.url.startsWith('/appointments/')) {
    const record = loadDb().bookings[req.url.slice('/appointments/'.length)];
    res.writeHead(record ? 200 : 404, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify(record ? { id: record.id, status: record.status } : { error: 'NOT_FOUND' }),
    );
  }
  if (req.method !== 'POST' || req.url !== '/appointments') {
    res.writeHead(404, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: 'NOT_FOUND' }));
  }
  inflight++;
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    raw += chunk;
  });
  req.on('end', () => {
    try {
      let input;
      try {
        input = JSON.parse(raw);
      } catch {
        return reply(res, 400, { error: 'INVALID_JSON' });
      }
      // LEGACY FAULT (validation): presence checks only. Times, zones, contact formats and slots in
      // the past reach the provider unchecked.
      if (!input?.patient || !input.slot || !input.calendarId) {
        return reply(res, 400, { error: 'MISSING_FIELDS' });
      }
      book(input, res);
    } catch (err) {
      log({ error: err.message }, 'request failed');
      reply(res, 500, { error: 'INTERNAL' });
    }
  });
});

server.listen(PORT, '127.0.0.1', () => log({ port: PORT, stateFile: STATE_FILE }, 'listening'));
