// --load N: N requests drawn from the data file's scenario mix, the same sequence for both projects
// (a seeded generator), each a copy of a case under its own id.
import type { TestCase, TestDataFile } from './data-file.js';

/** mulberry32: small, seedable, good enough to draw a mix. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedCase {
  /** L00001 … */
  id: string;
  /** The canonical case it copies; its expectations apply. */
  template: TestCase;
}

export function generateLoad(data: TestDataFile, n: number, seed = 42): GeneratedCase[] {
  const mix = data.load.mix;
  const weighted = data.cases.map((c) => ({ c, w: mix ? (mix[c.id] ?? 0) : 1 })).filter((x) => x.w > 0);
  const total = weighted.reduce((s, x) => s + x.w, 0);
  if (n > 0 && total <= 0) throw new Error('load.mix gives every case a weight of 0');
  const random = seededRandom(seed);
  const width = Math.max(5, String(n).length);
  return Array.from({ length: n }, (_, i) => {
    let r = random() * total;
    let pick = weighted[weighted.length - 1]!.c;
    for (const x of weighted) {
      r -= x.w;
      if (r < 0) {
        pick = x.c;
        break;
      }
    }
    return { id: `L${String(i + 1).padStart(width, '0')}`, template: pick };
  });
}
