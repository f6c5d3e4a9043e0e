import { Presets, SingleBar } from 'cli-progress';
import type { TargetResult } from './outcome';

export interface FleetProgress {
  start(total: number): void;
  update(done: number, counts: Record<TargetResult, number>, concurrency: number): void;
  stop(): void;
}

export const noProgress: FleetProgress = { start() {}, update() {}, stop() {} };

/** A cli-progress bar on stderr; only for a person at a terminal reading table output. */
export function terminalProgress(stream: NodeJS.WritableStream): FleetProgress {
  const bar = new SingleBar(
    {
      stream,
      format: '{bar} {value}/{total} machines | ok {ok} failed {failed} skipped {skipped} | {concurrency} at once',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0, { ok: 0, failed: 0, skipped: 0, concurrency: 0 }),
    update: (done, counts, concurrency) => bar.update(done, { ...counts, concurrency }),
    stop: () => bar.stop(),
  };
}
