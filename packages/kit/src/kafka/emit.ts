// What a handler returns: records to produce. The runtime encodes, produces and commits them.
export interface Emit {
  topic: string;
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
  /**
   * Set on a lifecycle event (by `lifecycleEmit`); not written. The kit logs and counts every
   * transition a consumer emits from it, in one place.
   */
  transition?: EmittedTransition;
}

/** What the kit logs and counts of an emitted lifecycle event. */
export interface EmittedTransition {
  appointmentId: string;
  correlationId: string;
  from: string | null;
  to: string;
  reason?: string | null;
  bookingId?: string | null;
  /** When the booking was accepted: a terminal transition observes booking_end_to_end_seconds from it. */
  since?: number;
}

/** Record headers as they arrive: a value, or several, as bytes or text (kafkajs's shape, without kafkajs). */
export type RecordHeaders = { [name: string]: Buffer | string | (Buffer | string)[] | undefined };

/** A consumed record as it was on the topic: where it is and its raw bytes (what a dead letter keeps). */
export interface RecordSource {
  topic: string;
  partition: number;
  message: {
    key: Buffer | null;
    value: Buffer | null;
    offset: string;
    timestamp?: string;
    headers?: RecordHeaders;
  };
}
