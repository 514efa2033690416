import { readFileSync } from 'node:fs';

/**
 * Tracks the peak resident set size of this process. It samples `process.memoryUsage.rss()`
 * every 100 ms and, on Linux, also reads the kernel's own high-water mark (`VmHWM` in
 * `/proc/self/status`), which catches a peak between two samples or while the event loop was
 * blocked. The reported peak is the larger of the two.
 */
export class PeakRss {
  private sampled = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.sampled) this.sampled = rss;
  }

  /** Peak RSS in bytes so far. */
  peak(): number {
    this.sample();
    return Math.max(this.sampled, kernelHighWaterMark() ?? 0);
  }

  stop(): number {
    clearInterval(this.timer);
    return this.peak();
  }
}

/** `VmHWM` of this process in bytes, or undefined off Linux. */
export function kernelHighWaterMark(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function megabytes(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
