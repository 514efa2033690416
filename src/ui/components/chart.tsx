import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line (or bars) of a chart: a label and a value per time. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS variable of the theme, e.g. `--spark-depth`. */
  color: string;
  bars?: boolean;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A time-series chart (uPlot): `times` in epoch milliseconds, one or more series. It follows
 * its container's width and the light or dark theme; `title` names it for screen readers.
 */
export function TimeChart({
  times,
  series,
  title,
  height = 220,
}: {
  times: number[];
  series: ChartSeries[];
  title: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = {
      stroke: cssVar('--muted'),
      grid: { stroke: cssVar('--border'), width: 1 },
      ticks: { show: false },
    };
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [axis, { ...axis, size: 50 }],
        series: [
          {},
          ...series.map((s) => {
            const color = cssVar(s.color);
            return {
              label: s.label,
              stroke: color,
              width: 1.5,
              fill: s.bars ? color : `${color}22`,
              ...(s.bars ? { paths: uPlot.paths.bars?.({ size: [0.8, 40] }), points: { show: false } } : {}),
            };
          }),
        ],
      },
      [
        times.map((t) => t / 1000),
        // Empty bars are gaps, not a line of zero-height bars.
        ...series.map((s) => (s.bars ? s.values.map((v) => (v === 0 ? null : v)) : s.values)),
      ] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, height]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
