/** @jsxImportSource hono/jsx */
/**
 * The monitoring dashboard, server-rendered with hono/jsx (no build step). Pages read the same services as the
 * API and see what the signed-in key may see; the small client script adds live progress (SSE), cancel, ingest
 * and worker refresh through the JSON API with the session cookie.
 */
import {
  type ApiPrincipal,
  isWindowPreset,
  itemThroughput,
  listDeadLetters,
  MEDIA_TYPES,
  type MediaRecord,
  RECORD_STATUSES,
  recordStats,
  recordsOverTime,
  taskWebhookView,
  timeWindow,
  type WindowPreset,
} from '@mediaforge/core';
import { type Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { principalScope, SESSION_COOKIE } from '../auth.ts';
import { clientAddress } from '../auth-failures.ts';
import type { ApiEnv } from '../env.ts';
import type { Services } from '../services.ts';
import { publicPayload } from '../task-item-schemas.ts';
import { mediaRangeFromQuery } from './media-filters.tsx';
import { LoginPage, OverviewPage, TaskPage } from './pages.tsx';
import { RecordPage, RecordsPage } from './records-pages.tsx';
import { ThroughputPage } from './throughput-page.tsx';
import { DeadLettersPage } from './webhook-pages.tsx';

const EXCERPT_BYTES = 600;
// A Map: an own-entry lookup, so `__proto__`, `constructor` and `toString` are simply not assets.
const ASSETS = new Map([
  ['client.js', 'text/javascript; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
]);

export function dashboardRoutes(services: Services) {
  const { tasks } = services;
  const principalOf = async (c: Context<ApiEnv>): Promise<ApiPrincipal | null> => {
    const key = getCookie(c, SESSION_COOKIE);
    return key ? services.authFailures.verify(services.verifier, key, clientAddress(c)) : null;
  };
  const page = (render: (c: Context<ApiEnv>, principal: ApiPrincipal) => Promise<Response>) => {
    return async (c: Context<ApiEnv>) => {
      const principal = await principalOf(c);
      if (!principal) return c.redirect('/dashboard/login', 303);
      // Pages read the database and storage as /v1 does, and take from the same per-key budget (429 RATE_LIMITED).
      c.header('RateLimit-Remaining', String(services.limiter.take(principal.keyId).remaining));
      c.header('Cache-Control', 'no-store');
      return render(c, principal);
    };
  };
  const presetOf = (c: Context<ApiEnv>): WindowPreset => {
    const asked = c.req.query('window');
    return isWindowPreset(asked) ? asked : '1h';
  };
  const label = (principal: ApiPrincipal) => `${principal.userId}${principal.admin ? ' (admin)' : ''}`;

  const excerpt = async (record: MediaRecord): Promise<string | undefined> => {
    if (record.mediaType !== 'text' || !record.storageKey) return undefined;
    const object = await services.store.get(record.storageKey, { range: { start: 0, end: EXCERPT_BYTES - 1 } });
    if (!object) return undefined;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(await new Response(object.body).arrayBuffer());
    return text.replace(/\uFFFD+$/, '');
  };

  return new Hono<ApiEnv>()
    .get('/', (c) => c.redirect('/dashboard', 302))
    .get('/dashboard/assets/:asset', (c) => {
      const asset = c.req.param('asset');
      const type = ASSETS.get(asset);
      if (!type) return c.notFound();
      return c.body(Bun.file(new URL(`./${asset}`, import.meta.url)).stream(), 200, {
        'Content-Type': type,
        'Cache-Control': 'no-cache',
      });
    })
    .get('/dashboard/login', (c) => c.html(<LoginPage />))
    .get(
      '/dashboard',
      page(async (c, principal) => {
        const scope = principalScope(principal);
        const [stats, activeTasks, page, workers] = await Promise.all([
          recordStats(services.database.db, scope),
          tasks.activeTaskCount(scope),
          tasks.listTasks(scope, { limit: 25 }),
          principal.admin ? tasks.getWorkerStats() : undefined,
        ]);
        const views = await Promise.all(page.tasks.map((task) => tasks.statusOf(task, { withFileIds: false })));
        return c.html(
          <OverviewPage
            user={label(principal)}
            stats={{ ...stats, activeTasks }}
            tasks={views}
            {...(workers
              ? {
                  workers: workers.workers.filter((worker) => worker.state !== 'stopped'),
                  activeByTask: workers.activeItems.byTask,
                }
              : {})}
          />,
        );
      }),
    )
    .get(
      '/dashboard/tasks/:id',
      page(async (c, principal) => {
        const scope = principalScope(principal);
        const status = await tasks.getTaskStatus(c.req.param('id') ?? '', scope);
        const afterSeq = c.req.query('afterSeq');
        const found = await tasks.listItems(status.taskId, scope, {
          limit: 1000,
          ...(afterSeq && /^\d{1,9}$/.test(afterSeq) ? { afterSeq: Number(afterSeq) } : {}),
        });
        // Which worker holds an item (host, pid) is for admins; a URL's query may carry a signed-URL token.
        const shown = found.items.map((item) => ({
          ...item,
          lockedBy: principal.admin ? item.lockedBy : null,
          payload: publicPayload(item.payload),
        }));
        const preset = presetOf(c);
        const window = timeWindow(preset);
        const series = await itemThroughput(services.database.db, { by: 'task', window, scope, taskId: status.taskId });
        const webhook = await taskWebhookView(services.database.db, status.taskId, scope);
        return c.html(
          <TaskPage
            user={label(principal)}
            task={status}
            items={shown}
            {...(found.nextAfterSeq === undefined ? {} : { nextAfterSeq: found.nextAfterSeq })}
            throughput={{ preset, window, series }}
            webhook={webhook}
          />,
        );
      }),
    )
    .get(
      '/dashboard/dead-letters',
      page(async (c, principal) => {
        const found = await listDeadLetters(services.database.db, principalScope(principal), { limit: 200 });
        // A URL's query may carry a signed-URL token: shown without it, as on the task page.
        const items = found.items.map((item) => ({ ...item, payload: publicPayload(item.payload) }));
        return c.html(<DeadLettersPage user={label(principal)} items={items} />);
      }),
    )
    .get(
      '/dashboard/throughput',
      page(async (c, principal) => {
        const scope = principalScope(principal);
        const preset = presetOf(c);
        const window = timeWindow(preset);
        const db = services.database.db;
        const [byTask, byWorker, recordsByType] = await Promise.all([
          itemThroughput(db, { by: 'task', window, scope }),
          // Worker ids name hosts and pids: admins only, like the workers table.
          principal.admin ? itemThroughput(db, { by: 'worker', window, scope }) : undefined,
          recordsOverTime(db, window, scope),
        ]);
        return c.html(
          <ThroughputPage
            user={label(principal)}
            charts={{ preset, window, byTask, recordsByType, ...(byWorker ? { byWorker } : {}) }}
          />,
        );
      }),
    )
    .get(
      '/dashboard/records',
      page(async (c, principal) => {
        const mediaType = MEDIA_TYPES.find((type) => type === c.req.query('mediaType'));
        const status = RECORD_STATUSES.find((value) => value === c.req.query('status'));
        const cursor = c.req.query('cursor');
        const range = mediaRangeFromQuery((name) => c.req.query(name));
        const found = await services.records.list(principalScope(principal), {
          limit: 48,
          ...range,
          ...(mediaType ? { mediaType } : {}),
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
        const excerpts = new Map<string, string>();
        await Promise.all(
          found.items.map(async (record) => {
            const text = await excerpt(record).catch(() => undefined);
            if (text !== undefined) excerpts.set(record.uid, text);
          }),
        );
        return c.html(
          <RecordsPage
            user={label(principal)}
            records={found.items}
            excerpts={excerpts}
            filters={{ ...(mediaType ? { mediaType } : {}), ...(status ? { status } : {}), ...range }}
            {...(found.nextCursor ? { nextCursor: found.nextCursor } : {})}
          />,
        );
      }),
    )
    .get(
      '/dashboard/records/:uid',
      page(async (c, principal) => {
        const record = await services.records.get(c.req.param('uid') ?? '', principalScope(principal));
        const text = await excerpt(record).catch(() => undefined);
        return c.html(<RecordPage user={label(principal)} record={record} {...(text ? { excerpt: text } : {})} />);
      }),
    );
}
