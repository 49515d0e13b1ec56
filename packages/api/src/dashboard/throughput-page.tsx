/** @jsxImportSource hono/jsx */
/** Throughput over time, the picture Flower and riverui open with: per task, per worker (admins), records by type. */
import { formatBytes, type Series, type TimeWindow, WINDOW_PRESETS, type WindowPreset } from '@mediaforge/core';
import { Chart } from './chart.tsx';
import { Layout, shortId } from './layout.tsx';

export interface ThroughputCharts {
  preset: WindowPreset;
  window: TimeWindow;
  byTask: Series[];
  /** Admins only: worker ids name hosts and pids. */
  byWorker?: Series[];
  recordsByType: Series[];
}

const itemsPerSecond = (point: { items: number }, seconds: number) => point.items / seconds;
const bytesPerSecond = (point: { bytes: number }, seconds: number) => point.bytes / seconds;
const perSecond = (value: number) => `${value < 10 ? Number(value.toPrecision(2)) : Math.round(value)}/s`;
const bytesRate = (value: number) => `${formatBytes(Math.round(value))}/s`;
const taskHref = (key: string) => `/dashboard/tasks/${key}`;

/** Links to the same page over each window the dashboard offers. */
export function WindowPicker({ path, preset }: { path: string; preset: WindowPreset }) {
  return (
    <p class="windows">
      {(Object.keys(WINDOW_PRESETS) as WindowPreset[]).map((name) =>
        name === preset ? <strong>{name}</strong> : <a href={`${path}?window=${name}`}>{name}</a>,
      )}
    </p>
  );
}

/** Items/s and bytes/s of the given series side by side. */
export function RateCharts({
  id,
  series,
  window,
  label,
  href,
}: {
  id: string;
  series: Series[];
  window: TimeWindow;
  label?: (key: string) => string;
  href?: (key: string) => string | undefined;
}) {
  const shared = { series, window, ...(label ? { label } : {}), ...(href ? { href } : {}) };
  return (
    <div class="charts">
      <Chart id={`${id}-items`} title="Items per second" value={itemsPerSecond} format={perSecond} {...shared} />
      <Chart id={`${id}-bytes`} title="Bytes stored per second" value={bytesPerSecond} format={bytesRate} {...shared} />
    </div>
  );
}

export function ThroughputPage({ user, charts }: { user: string; charts: ThroughputCharts }) {
  const { window } = charts;
  const minutes = window.bucketMs / 60_000;
  return (
    <Layout title="Throughput" user={user}>
      <h1>Throughput</h1>
      <WindowPicker path="/dashboard/throughput" preset={charts.preset} />
      <p class="muted">Finished items per {minutes}-minute bucket, shown as rates; the busiest series only.</p>
      <h2>Per task</h2>
      <RateCharts id="by-task" series={charts.byTask} window={window} label={shortId} href={taskHref} />
      {charts.byWorker ? (
        <>
          <h2>Per worker</h2>
          <RateCharts id="by-worker" series={charts.byWorker} window={window} />
        </>
      ) : null}
      <h2>Records by type</h2>
      <div class="charts">
        <Chart
          id="records-by-type"
          title={`Records created per ${minutes} min`}
          series={charts.recordsByType}
          window={window}
          value={(point) => point.items}
          format={(value) => String(Math.round(value))}
        />
      </div>
    </Layout>
  );
}
