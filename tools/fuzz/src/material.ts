// Valid values to break: one random value of each contract (avsc's `random()`), encoded as its topic's
// producers would, plus the shapes only some topics have (an array to inflate, fields to refuse).
import type { AvroSerde } from '@booking/kit';
import { SCHEMAS, type SchemaName } from '@booking/schemas';
import avro from 'avsc';
import { MARKERS, type RecordMaterial } from './cases.js';
import type { FuzzTopic } from './fuzz.js';

const types = new Map<SchemaName, avro.Type>();
const typeOf = (name: SchemaName) => {
  let t = types.get(name);
  if (!t) {
    t = avro.Type.forSchema(SCHEMAS[name] as unknown as avro.Schema);
    types.set(name, t);
  }
  return t;
};

/** `foreignTopic`: a topic of another schema, whose id a record names to pose as this topic's. */
export function materialFor(
  serde: AvroSerde,
  foreignTopic: (t: FuzzTopic) => { topic: string; schema: SchemaName },
) {
  return async (t: FuzzTopic): Promise<RecordMaterial> => {
    const valid = await serde.encode(t.name, typeOf(t.schema).random());
    const foreign = foreignTopic(t);
    const m: RecordMaterial = {
      valid,
      ownId: valid.readInt32BE(1),
      foreign: await serde.encode(foreign.topic, typeOf(foreign.schema).random()),
    };
    if (t.schema === 'DeadLetter') {
      // fieldErrors: ['MARKER'] -> the block count 1 (zigzag 0x02) before the string announces 2^31.
      const letter = { ...(typeOf('DeadLetter').random() as object), fieldErrors: ['FZMARK'] };
      const bytes = await serde.encode(t.name, letter);
      const at = bytes.indexOf(Buffer.from([0x02, 0x0c, ...Buffer.from('FZMARK')]));
      if (at > 0)
        m.hugeCount = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]),
          bytes.subarray(at + 1),
        ]);
    }
    if (t.schema === 'InboundRequest') {
      const start = Date.now() + 86_400_000;
      m.invalidFields = await serde.encode(t.name, {
        idempotencyKey: `fz-invalid-${start}`,
        patient: { id: 'fz', name: MARKERS.name, phone: MARKERS.phone, email: MARKERS.email },
        calendarId: 'not a calendar id!',
        slot: { start: '2031-02-30T09:00:00+01:00', end: 'later', timezone: 'Mars/Olympus' },
        reason: null,
        deadline: 1,
        source: 'fuzz',
      });
      // Otherwise valid records with a control character or bidi override in one string field each
      // (issue 31: HTTP's 422 is a VALIDATION_FAILED dead letter here), and a key of spaces.
      const slot = {
        start: new Date(Math.floor(start / 3_600_000) * 3_600_000).toISOString(),
        end: new Date(Math.floor(start / 3_600_000) * 3_600_000 + 1_800_000).toISOString(),
        timezone: 'UTC',
      };
      const good = {
        idempotencyKey: `fz-unsafe-${start}`,
        patient: { id: 'fz', name: MARKERS.name, phone: null, email: null },
        calendarId: 'cal-immediate-fz',
        slot,
        reason: null as string | null,
        deadline: null,
        source: 'fuzz',
      };
      m.unsafeText = await Promise.all(
        [
          { ...good, patient: { ...good.patient, name: `${MARKERS.name}\u001b[2J` } },
          { ...good, patient: { ...good.patient, id: 'fz\u0000' } },
          { ...good, reason: 'ok\r\nX-Injected: 1' },
          { ...good, reason: 'txt\u202e.exe' },
          { ...good, source: 'fuzz\u0085' },
          { ...good, slot: { ...slot, timezone: 'UTC\u2066' } },
          { ...good, idempotencyKey: '          ' },
        ].map((v) => serde.encode(t.name, v)),
      );
    }
    return m;
  };
}
