/** Time series for the charts: samples and events put into buckets. Pure (tested in Node). */

/** Buckets samples (oldest first) into `buckets` sums or last values, for a sparkline. */
export function bucketize(
  samples: { at: number; value: number }[],
  since: number,
  until: number,
  buckets: number,
  mode: 'sum' | 'last',
): number[] {
  const out = new Array<number>(buckets).fill(0);
  const width = (until - since) / buckets;
  let last = 0;
  const seen = new Array<boolean>(buckets).fill(false);
  for (const sample of samples) {
    const index = Math.min(buckets - 1, Math.max(0, Math.floor((sample.at - since) / width)));
    if (mode === 'sum') out[index] = (out[index] ?? 0) + sample.value;
    else {
      out[index] = sample.value;
      seen[index] = true;
    }
  }
  if (mode === 'last') {
    // A bucket without a sample carries the previous depth forward.
    for (let i = 0; i < buckets; i++) {
      if (seen[i]) last = out[i] ?? 0;
      else out[i] = last;
    }
  }
  return out;
}

/** Counts of events (epoch ms) per bucket from `since` to `until`, for a bar chart. */
export function histogram(
  at: number[],
  since: number,
  until: number,
  buckets: number,
): { times: number[]; counts: number[] } {
  const width = Math.max(1, (until - since) / buckets);
  const counts = new Array<number>(buckets).fill(0);
  for (const t of at) {
    const i = Math.floor((t - since) / width);
    if (i >= 0 && i < buckets) counts[i] = (counts[i] ?? 0) + 1;
  }
  return { times: counts.map((_, i) => since + i * width), counts };
}
