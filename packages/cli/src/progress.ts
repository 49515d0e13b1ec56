/**
 * Progress on long work, on stderr: a live bar redrawn in place on a terminal (count, bytes, rate, ETA), plain
 * periodic lines otherwise (logs and CI output stay readable), nothing at all in --json mode.
 */
import { formatBytes } from '@mediaforge/core/errors';

export interface ProgressState {
  completed: number;
  total: number;
  failed: number;
  bytes: number;
  /** What is in flight right now, e.g. per-file byte counts; a function is called only when a line is drawn. */
  detail?: string | (() => string);
}

export interface ProgressReporter {
  update(state: ProgressState): void;
  done(): void;
}

/** Whether a bar is drawn on the terminal's current line, where the next log line would otherwise be appended. */
let barOnLine = false;

/** Clears a drawn bar (the next update draws it again); the CLI's logger calls this before each line. */
export function clearProgressLine(): void {
  if (!barOnLine) return;
  process.stderr.write('\r\u001b[2K');
  barOnLine = false;
}

export function createProgress(
  label: string,
  options: { enabled?: boolean; tty?: boolean; intervalMs?: number } = {},
): ProgressReporter {
  const enabled = options.enabled ?? true;
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const interval = options.intervalMs ?? (tty ? 100 : 2000);
  const started = performance.now();
  let lastDraw = 0;
  let last: ProgressState | undefined;

  const render = (state: ProgressState) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? state.completed / seconds : 0;
    const eta = rate > 0 ? (state.total - state.completed) / rate : undefined;
    const stats = [
      `${state.completed}/${state.total}`,
      state.failed ? `${state.failed} failed` : undefined,
      formatBytes(state.bytes),
      `${rate.toFixed(1)}/s`,
      eta !== undefined && state.completed < state.total ? `ETA ${formatDuration(eta)}` : undefined,
    ].filter(Boolean);
    const text = typeof state.detail === 'function' ? state.detail() : state.detail;
    const detail = text && state.completed < state.total ? ` | ${text}` : '';
    if (!tty) return `${label}: ${stats.join(', ')}${detail}\n`;
    const width = 24;
    const filled = state.total ? Math.round((state.completed / state.total) * width) : width;
    const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${stats.join('  ')}${detail}`;
    const columns = process.stderr.columns || 120;
    return `\r\u001b[2K${line.length > columns ? `${line.slice(0, columns - 1)}…` : line}`;
  };

  return {
    update(state) {
      last = state;
      if (!enabled) return;
      const now = performance.now();
      if (now - lastDraw < interval && state.completed < state.total) return;
      lastDraw = now;
      process.stderr.write(render(state));
      barOnLine = tty;
    },
    done() {
      if (!enabled || !last) return;
      // A terminal gets the final bar and a newline; plain output already printed the final count in update().
      if (tty) process.stderr.write(`${render(last)}\n`);
      barOnLine = false;
    },
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
