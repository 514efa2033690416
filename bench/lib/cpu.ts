import { readFileSync } from 'node:fs';

/** Busy and total jiffies of all CPUs, from the first line of `/proc/stat`; undefined off Linux. */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((s, n) => s + n, 0);
    // idle and iowait are the 4th and 5th fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Fraction (0..1) of the machine's CPU time that was busy over the next `ms` milliseconds. */
export async function machineBusy(ms = 2_000): Promise<number | undefined> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  if (!before || !after || after.total === before.total) return undefined;
  return (after.busy - before.busy) / (after.total - before.total);
}

/**
 * Waits until the machine is quiet (less than `threshold` of its CPU busy over 2 s), at most
 * `maxMs`, so that other work on a shared machine does not slow one system and not another.
 * Returns the last busy fraction seen, which the report shows next to the result.
 */
export async function waitForQuiet(
  threshold = 0.2,
  maxMs = 180_000,
  onWait: (busy: number) => void = () => {},
): Promise<number | undefined> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const busy = await machineBusy();
    if (busy === undefined || busy < threshold || Date.now() > deadline) return busy;
    onWait(busy);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}
