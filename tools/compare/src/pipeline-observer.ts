// Project B's side: the appointment views behind intake's public status API, polled until every
// appointment is in a terminal state (or the bound runs out).
import { type AppointmentState, isTerminal } from '@booking/kit';
import pLimit from 'p-limit';
import type { PipelineView } from './outcome.js';

export interface IntakeApi {
  url: string;
  apiKey: string;
}

export async function readView(api: IntakeApi, id: string): Promise<PipelineView | undefined> {
  const res = await fetch(`${api.url}/v1/appointments/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${api.apiKey}` },
    signal: AbortSignal.timeout(5000),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /v1/appointments/${id}: HTTP ${res.status}`);
  return (await res.json()) as PipelineView;
}

export async function readViews(api: IntakeApi, ids: Iterable<string>): Promise<Map<string, PipelineView>> {
  const limit = pLimit(16);
  const out = new Map<string, PipelineView>();
  await Promise.all(
    [...ids].map((id) =>
      limit(async () => {
        const v = await readView(api, id);
        if (v) out.set(id, v);
      }),
    ),
  );
  return out;
}

/**
 * Polls until every id is terminal. Returns the ids still not terminal when the bound ran out.
 * `onProgress` gets the number settled so far.
 */
export async function waitTerminal(
  api: IntakeApi,
  ids: string[],
  boundMs: number,
  onProgress: (settled: number) => void = () => {},
): Promise<string[]> {
  let open = [...new Set(ids)];
  const total = open.length;
  const until = Date.now() + boundMs;
  while (open.length && Date.now() < until) {
    const views = await readViews(api, open);
    open = open.filter((id) => {
      const v = views.get(id);
      return !v || !isTerminal(v.state as AppointmentState);
    });
    onProgress(total - open.length);
    if (open.length) await new Promise((r) => setTimeout(r, 250));
  }
  return open;
}
