/**
 * A tiny inline SVG line for a table cell: the shape of a series, not its values (the queue
 * page has the real chart). `label` says what it shows for screen readers.
 */
export function Sparkline({
  values,
  label,
  width = 96,
  height = 24,
  kind = 'depth',
}: {
  values: number[];
  label: string;
  width?: number;
  height?: number;
  kind?: 'depth' | 'inflow';
}) {
  if (values.length < 2) {
    return (
      <span class="muted spark-empty" title="not enough samples yet (one per minute)">
        —
      </span>
    );
  }
  const max = Math.max(...values, 1);
  const step = width / (values.length - 1);
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`)
    .join(' ');
  return (
    <svg
      class={`spark spark-${kind}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <polyline points={points} fill="none" stroke-width="1.5" />
    </svg>
  );
}
