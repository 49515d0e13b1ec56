/** @jsxImportSource hono/jsx */
/**
 * A stacked bar chart over a time window as inline SVG, drawn on the server: no chart library, no script, and it
 * prints and screenshots exactly as served. Each bar segment carries a `<title>`, the browser's own tooltip.
 */
import type { BucketTotals, Series, TimeWindow } from '@mediaforge/core';

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 70;
const BOTTOM = 20;
const TOP = 8;
// Distinct on white and for the common colour-vision deficiencies (Okabe–Ito, black left out).
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];

export interface ChartProps {
  id: string;
  title: string;
  series: Series[];
  window: TimeWindow;
  /** The bucket's value as drawn, e.g. items per second from the bucket's item count. */
  value: (point: BucketTotals, seconds: number) => number;
  format: (value: number) => string;
  /** What the legend and tooltips call a series (a short task id, a worker id, a media type). */
  label?: (key: string) => string;
  /** Where a legend entry links to, if anywhere. */
  href?: (key: string) => string | undefined;
}

export function colourOf(index: number): string {
  return COLOURS[index % COLOURS.length] as string;
}

export function Chart({ id, title, series, window, value, format, label = (key) => key, href }: ChartProps) {
  const seconds = window.bucketMs / 1000;
  const values = series.map((s) => s.points.map((point) => value(point, seconds)));
  const stacked = Array.from({ length: window.buckets }, (_, i) => values.reduce((sum, v) => sum + (v[i] ?? 0), 0));
  const max = Math.max(0, ...stacked);
  const plotWidth = WIDTH - LEFT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = plotWidth / window.buckets;
  const y = (v: number) => (max === 0 ? 0 : (v / max) * plotHeight);
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return (
    <figure class="chart" id={id} data-empty={max === 0 ? 'true' : undefined}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={title}>
        <line class="axis" x1={LEFT} y1={TOP + plotHeight} x2={WIDTH} y2={TOP + plotHeight} />
        <line class="grid-line" x1={LEFT} y1={TOP} x2={WIDTH} y2={TOP} />
        <text class="tick" x={LEFT - 6} y={TOP + 10} text-anchor="end">
          {format(max)}
        </text>
        <text class="tick" x={LEFT - 6} y={TOP + plotHeight} text-anchor="end">
          0
        </text>
        <text class="tick" x={LEFT} y={HEIGHT - 4}>
          {time(window.start.getTime())}
        </text>
        <text class="tick" x={WIDTH} y={HEIGHT - 4} text-anchor="end">
          {`${time(window.end.getTime())} UTC`}
        </text>
        {max === 0 ? (
          <text class="tick" x={LEFT + plotWidth / 2} y={TOP + plotHeight / 2} text-anchor="middle">
            Nothing in this window
          </text>
        ) : null}
        {stacked.flatMap((_, bucket) => {
          let base = TOP + plotHeight;
          const at = time(window.start.getTime() + bucket * window.bucketMs);
          return series.flatMap((s, index) => {
            const v = values[index]?.[bucket] ?? 0;
            if (v <= 0) return [];
            const height = Math.max(y(v), 1);
            base -= height;
            return [
              <rect
                class="segment"
                data-series={s.key}
                data-bucket={bucket}
                x={(LEFT + bucket * slot + slot * 0.1).toFixed(1)}
                y={base.toFixed(1)}
                width={(slot * 0.8).toFixed(1)}
                height={height.toFixed(1)}
                fill={colourOf(index)}
              >
                <title>{`${at} · ${label(s.key)}: ${format(v)}`}</title>
              </rect>,
            ];
          });
        })}
      </svg>
      {series.length > 0 ? (
        <ul class="legend">
          {series.map((s, index) => {
            const link = href?.(s.key);
            return (
              <li data-series={s.key}>
                <span class="swatch" style={`background:${colourOf(index)}`} />
                {link ? <a href={link}>{label(s.key)}</a> : label(s.key)}
              </li>
            );
          })}
        </ul>
      ) : null}
    </figure>
  );
}
