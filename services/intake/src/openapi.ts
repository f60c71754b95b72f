// The HTTP API's contract as OpenAPI 3.1 (issue 18): the route schemas below document intake's
// routes and @fastify/swagger builds /openapi.json from them, so the document is the routes'. They
// document only: zod (validation.ts) stays the validator, with its field-level reasons, and the
// handlers' answers are sent as they are (the /v1 scope's validator and serializer ignore them).
import { STATES } from '@booking/kit';
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { httpBodySchema } from './validation.js';

const error = (description: string, extra: Record<string, unknown> = {}) => ({
  description,
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, ...extra },
  required: ['error'],
});
const fieldErrors = {
  errors: {
    type: 'array',
    items: {
      type: 'object',
      properties: { field: { type: 'string' }, message: { type: 'string' } },
      required: ['field', 'message'],
    },
  },
};
const view = {
  description: 'The appointment as audit projects it from the lifecycle topic',
  type: 'object',
  properties: {
    appointmentId: { type: 'string', format: 'uuid' },
    state: { type: 'string', enum: [...STATES] },
    attempts: { type: 'integer' },
    bookingId: { type: ['string', 'null'] },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          from: { type: ['string', 'null'] },
          to: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          reason: { type: ['string', 'null'] },
        },
      },
    },
  },
};
const common = {
  401: error('No valid Bearer API key (the scheme in any case: RFC 9110 §11.1)'),
  429: error('Over the per-key rate limit; Retry-After says when'),
  503: error('Not accepted now (Kafka or Redis unavailable); retry with the same Idempotency-Key'),
};

/** JSON Schema of the booking request body, from the zod schema that validates it. */
function bookingBody(): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(httpBodySchema(), {
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

export const ROUTE_SCHEMAS = {
  book: {
    summary: 'Request a booking',
    description:
      'Accepted once its records are committed to Kafka (202); the booking then runs asynchronously. The same Idempotency-Key with the same body replays the 202 (Idempotent-Replayed: true); while the first request with it is still being accepted, 409; with another body, 422.',
    tags: ['appointments'],
    headers: {
      type: 'object',
      properties: {
        'idempotency-key': {
          type: 'string',
          minLength: 8,
          maxLength: 255,
          description: 'One per booking intent',
        },
        'x-request-id': { type: 'string', description: 'Echoed in logs; 1-64 of [A-Za-z0-9_.-]' },
        'x-correlation-id': { type: 'string' },
        traceparent: { type: 'string', description: 'W3C trace context' },
      },
      required: ['idempotency-key'],
    },
    body: bookingBody(),
    response: {
      202: {
        description: 'Accepted; Location names the status resource',
        type: 'object',
        properties: {
          appointmentId: { type: 'string', format: 'uuid' },
          state: { type: 'string', enum: ['REQUESTED'] },
        },
        required: ['appointmentId', 'state'],
      },
      400: error(
        'Invalid request, with the reason per field (VALIDATION_FAILED); or a header that may appear once given twice, Host and Authorization among them (REPEATED_HEADER, RFC 9110 §5.3, RFC 9112 §3.2)',
        fieldErrors,
      ),
      409: error('A request with this Idempotency-Key is still being accepted; retry'),
      422: error(
        'The Idempotency-Key was used with another body (IDEMPOTENCY_KEY_REUSED); or a string field holds a control character (C0, DEL, C1) or a Unicode bidi override (UNSAFE_CHARACTERS, each field named)',
        fieldErrors,
      ),
      413: error('Body over the limit'),
      415: error(
        'Not application/json (UNSUPPORTED_MEDIA_TYPE); or a Content-Encoding other than identity (UNSUPPORTED_CONTENT_ENCODING, with Accept-Encoding: identity; RFC 9110 §8.4)',
      ),
      ...common,
    },
    security: [{ apiKey: [] }],
  },
  status: {
    summary: 'The status of an appointment',
    tags: ['appointments'],
    params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
    response: { 200: view, 404: error('No such appointment'), ...common },
    security: [{ apiKey: [] }],
  },
  byKey: {
    summary: 'The status of an appointment by its idempotency key',
    tags: ['appointments'],
    querystring: {
      type: 'object',
      properties: {
        idempotencyKey: { type: 'string' },
        source: { type: 'string', description: 'For a request published to Kafka: its source' },
      },
      required: ['idempotencyKey'],
    },
    response: {
      200: view,
      400: error('idempotencyKey missing', fieldErrors),
      404: error('Not found'),
      ...common,
    },
    security: [{ apiKey: [] }],
  },
} satisfies Record<string, FastifySchema & Record<string, unknown>>;

export const OPENAPI_INFO = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Appointment booking: intake',
      version: '1.0.0',
      description:
        'Booking requests in, status out. Contracts of the Kafka topics: docs/asyncapi.yaml; guide: docs/producers.md.',
    },
    components: { securitySchemes: { apiKey: { type: 'http' as const, scheme: 'bearer' } } },
  },
};
