/**
 * A one-line progress bar for the terminal, redrawn in place with a carriage return. It draws
 * only on a TTY (a bar in a log file or a pipe is noise) and at most every 50 ms.
 */

/** Where the bar is drawn. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A progress bar for one task. */
export class ProgressBar {
  private last = 0;
  private drawn = false;
  private readonly enabled: boolean;

  /** @param label text before the bar; @param enabled false to draw nothing (default: stream.isTTY). */
  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? stream.isTTY === true;
  }

  /** Shows `done` of `total` (redraws at most every 50 ms, and always at the end). */
  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.last < 50) return;
    this.last = now;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 20));
    const fraction = total === 0 ? 1 : done / total;
    const filled = Math.round(fraction * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    this.stream.write(`\r${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%`);
    this.drawn = true;
  }

  /** Erases the bar so the next output starts on a clean line. */
  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }
}
