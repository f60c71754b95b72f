// Progress on stderr: a bar on a terminal, a line every few seconds in CI logs.
import cliProgress from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export function createProgress(enabled: boolean): Progress {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      if (!enabled) return;
      bar = new cliProgress.SingleBar(
        {
          format: `  ${label.padEnd(28)} [{bar}] {value}/{total}  {duration}s`,
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 5000,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update(done) {
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
