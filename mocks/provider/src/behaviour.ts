// Which behaviour a calendar gets: the checked-in table (behaviours.json), longest prefix first.
import { readFileSync } from 'node:fs';

export const BEHAVIOURS = [
  'immediate',
  'pending',
  'pending-rejected',
  'delayed',
  'flaky',
  'always-fail',
  'slot-taken',
  'rate-limited',
  'ghost',
  /** Books like immediate; every cancel answers 503 (for compensation that cannot complete). */
  'cancel-fails',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

interface Table {
  default: Behaviour;
  prefixes: Record<string, Behaviour>;
}

const table = JSON.parse(readFileSync(new URL('./behaviours.json', import.meta.url), 'utf8')) as Table;
const byLength = Object.entries(table.prefixes).sort(([a], [b]) => b.length - a.length);

export function behaviourOf(calendarId: string): Behaviour {
  return byLength.find(([prefix]) => calendarId.startsWith(prefix))?.[1] ?? table.default;
}

/** `cal-flaky-3-abc` fails 3 times; without a number, the mock's default count applies. */
export function countIn(calendarId: string, behaviourPrefix: string): number | undefined {
  const rest = calendarId.slice(behaviourPrefix.length);
  const n = /^(\d+)(-|$)/.exec(rest)?.[1];
  return n === undefined ? undefined : Number(n);
}
