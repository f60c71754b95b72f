// Whether this process stopped running for a while (SIGSTOP, a VM frozen, a laptop lid): a consumer
// that wakes from such a pause may have been dropped from its group meanwhile (a zombie), and must
// not register its transactional ids again before the group has confirmed it anew (issue 14's pause
// fault). A broker outage is not a pause: the process runs on and rides it out.
//
// One timer per process ticks every second; a gap between ticks (or between the last tick and now)
// longer than PAUSE_GAP_MS is a pause. Garbage collection and a loaded event loop stay far below it.

/** A gap in the process's own clock this long is a pause, not load. */
export const PAUSE_GAP_MS = 10_000;

let lastTick = Date.now();
let lastPauseEndedAt = 0;
let timer: NodeJS.Timeout | undefined;

function tick(now = Date.now()): void {
  if (now - lastTick > PAUSE_GAP_MS) lastPauseEndedAt = now;
  lastTick = now;
}

function ensureTimer(): void {
  if (timer) return;
  lastTick = Date.now();
  timer = setInterval(() => tick(), 1000);
  timer.unref();
}

/** Starts watching (idempotent); `pausedSince` is only meaningful from then on. */
export function watchProcessPauses(): void {
  ensureTimer();
}

/** True when the process was paused after `since` (a pause seen by the ticker, or one still unseen now). */
export function pausedSince(since: number, now = Date.now()): boolean {
  ensureTimer();
  tick(now);
  return lastPauseEndedAt > since;
}
