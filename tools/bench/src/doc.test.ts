import { describe, expect, it } from 'vitest';
import { BEGIN, END, renderBenchDoc } from './doc.js';

const p = (n: number | null) => ({ count: 1, p50_ms: n, p95_ms: n, p99_ms: n, max_ms: n });
const phase = (name: string, rate: number, lat: number) => ({
  phase: name,
  target_rate_per_s: rate,
  offered_per_s: rate,
  confirmed_per_s: rate,
  unfinished: 0,
  latency_scheduled_to_seen_confirmed: p(lat),
  latency_accepted_to_confirmed: p(lat),
  cpu: { cpu_ms: {}, services_ms_per_booking: 2.5, all_ms_per_booking: 5 },
});
const result = {
  run_id: 'abc',
  started_at: '2026-12-02T05:00:00.000Z',
  machine: { cpus: 2, node: 'v20' },
  raw: [
    {
      mode: 'plain' as const,
      records: 10,
      bytes_per_record: 350,
      partitions: 6,
      produce_per_s: 9000,
      produce_consume_per_s: 8000,
    },
  ],
  capacity: { per_s: 400, searched: true, steps: [] },
  latency: [phase('latency-25', 100, 20), phase('latency-50', 200, 40), phase('latency-80', 320, 90)],
};

describe('the generated part of docs/benchmark.md', () => {
  it('replaces only the text between the markers, with the run figures and each target judged', () => {
    const doc = `# Bench\nmethod\n${BEGIN}\nold figures\n${END}\nhistory\n`;
    const out = renderBenchDoc(doc, result, { svg: 'x.svg', resultsFile: 'results/bench.json' });
    expect(out.startsWith('# Bench\nmethod\n')).toBe(true);
    expect(out.endsWith(`${END}\nhistory\n`)).toBe(true);
    expect(out).not.toContain('old figures');
    expect(out).toContain('**Sustained capacity: 400 bookings/s**');
    expect(out).toMatch(/immediate p95 ≤ 50 ms at 50 % of capacity \| 40 ms \| met/);
    expect(out).toMatch(/sustained capacity ≥ 1,500 bookings\/s \(stretch 2,000\) \| 400\/s \| NOT met/);
    expect(out).toContain('| plain (10 records of 350 B) | 9000 | 8000 | 5.0 % |');
    expect(out).toContain('![latency against offered rate](x.svg)');
  });

  it('adds the section at the end when the doc has no markers', () => {
    const out = renderBenchDoc('# Bench\n', result, { svg: 'x.svg', resultsFile: 'r.json' });
    expect(out).toContain('## The last run');
    expect(out.indexOf(BEGIN)).toBeLessThan(out.indexOf(END));
  });
});
