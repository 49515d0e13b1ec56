/** @jsxImportSource hono/jsx */
import { expect, test } from 'bun:test';
import { timeWindow } from '@mediaforge/core';
import { Chart } from './chart.tsx';

const window = timeWindow('1h', new Date('2026-03-01T12:33:30Z'));
const points = (at: Record<number, number>) =>
  Array.from({ length: window.buckets }, (_, i) => ({ items: at[i] ?? 0, bytes: 0 }));
const render = (series: { key: string; points: { items: number; bytes: number }[] }[]) =>
  String(
    <Chart
      id="c"
      title="Items per second"
      series={series}
      window={window}
      value={(point, seconds) => point.items / seconds}
      format={(value) => `${value}/s`}
    />,
  );

test('one bar segment per series and non-empty bucket, stacked, with the rate in its tooltip', () => {
  const html = render([
    { key: 'a', points: points({ 10: 6, 59: 3 }) },
    { key: 'b', points: points({ 59: 3 }) },
  ]);
  expect(html.match(/<rect class="segment"/g)).toHaveLength(3);
  expect(html).toContain('<title>11:44 · a: 0.1/s</title>');
  // The tallest stack (0.1/s) sets the scale: the axis shows it, and its two halves split the height.
  expect(html).toContain('>0.1/s</text>');
  const heights = [...html.matchAll(/data-bucket="59"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
  expect(heights).toHaveLength(2);
  expect(heights[0]).toBeCloseTo(heights[1] as number, 1);
  expect(html).not.toContain('data-empty');
});

test('a quiet window says so instead of drawing an empty frame', () => {
  const html = render([{ key: 'a', points: points({}) }]);
  expect(html).toContain('data-empty="true"');
  expect(html).toContain('Nothing in this window');
  expect(html).not.toContain('class="segment"');
});
