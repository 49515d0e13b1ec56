/** @jsxImportSource hono/jsx */
/** The dashboard's page frame and small shared pieces. */
import type { Child } from 'hono/jsx';

export function Layout({ title, user, children }: { title: string; user?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · mediaforge`}</title>
        <link rel="stylesheet" href="/dashboard/assets/style.css" />
        <script src="/dashboard/assets/client.js" defer />
      </head>
      <body>
        <header>
          <strong>mediaforge</strong>
          {user ? (
            <nav>
              <a href="/dashboard">Overview</a>
              <a href="/dashboard/records">Records</a>
              <a href="/dashboard/throughput">Throughput</a>
              <a href="/dashboard/dead-letters">Dead letters</a>
              <a href="/docs">API reference</a>
              <span class="muted">{user}</span>
              <button type="button" id="sign-out">
                Sign out
              </button>
            </nav>
          ) : null}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

export function Progress({ percent, status }: { percent: number; status: string }) {
  return (
    <div class={`bar ${status}`} role="progressbar" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
      <div class="fill" style={`width:${Math.min(100, percent)}%`} />
    </div>
  );
}

export function ago(date: Date | null | undefined): string {
  if (!date) return '—';
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return date.toISOString().slice(0, 10);
}

/**
 * An id cut short for display. Our ids are UUIDv7, whose leading digits are a timestamp shared by every id made in
 * the same minute; the trailing digits are random, so they tell apart tasks and records made back to back.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}
