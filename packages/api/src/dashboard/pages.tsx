/** @jsxImportSource hono/jsx */
/** Dashboard pages: sign-in, overview (totals, ingest form, live tasks, workers) and one task with its items. */
import {
  formatBytes,
  type RecordStats,
  type Series,
  type TaskActivity,
  type TaskItemRow,
  type TaskStatusView,
  type TaskWebhookView,
  type TimeWindow,
  type WindowPreset,
  type WorkerInfo,
} from '@mediaforge/core';
import { ago, Layout, Progress, shortId } from './layout.tsx';
import { RateCharts, WindowPicker } from './throughput-page.tsx';
import { RetryButton, WebhookSection } from './webhook-pages.tsx';

export function LoginPage() {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      <p>
        Paste an API key (create one with <code>mediaforge keys create --user ID</code>).
      </p>
      <form id="login">
        <input id="key" name="key" type="password" autocomplete="off" size={60} placeholder="mfk_…" required />
        <button type="submit">Sign in</button>
        <p class="error" id="login-error" />
      </form>
    </Layout>
  );
}

export function TaskRow({ task }: { task: TaskStatusView }) {
  const active = !task.ready;
  return (
    <tr data-task-id={task.taskId} data-live={active ? 'true' : undefined}>
      <td>
        <a href={`/dashboard/tasks/${task.taskId}`} title={task.taskId}>
          {shortId(task.taskId)}
        </a>
      </td>
      <td>{task.kind}</td>
      <td class={`status ${task.status}`} data-field="status">
        {task.status}
      </td>
      <td>
        <Progress percent={task.progress.percent} status={task.status} />{' '}
        <span data-field="percent">{task.progress.percent}%</span>{' '}
        <span class="muted" data-field="counts">
          {task.progress.succeeded} ok · {task.progress.failed} failed · {task.progress.total} total
        </span>
      </td>
      <td class="muted">{ago(task.createdAt)}</td>
      <td>
        {active ? (
          <button type="button" class="cancel" data-task-id={task.taskId}>
            Cancel
          </button>
        ) : null}
      </td>
    </tr>
  );
}

export function OverviewPage(props: {
  user: string;
  stats: RecordStats & { activeTasks: number };
  tasks: TaskStatusView[];
  /** Admins only: workers name their hosts and pids. */
  workers?: (WorkerInfo & { activeItems: number })[];
  /** Admins only: running items per task. */
  activeByTask?: TaskActivity[];
}) {
  const { stats } = props;
  return (
    <Layout title="Overview" user={props.user}>
      <h1>Overview</h1>
      <div class="cards" id="totals">
        <Card label="Files" value={String(stats.files)} />
        <Card label="Stored" value={formatBytes(stats.bytes)} />
        {(['image', 'audio', 'video', 'text'] as const).map((type) => (
          <Card
            label={type}
            value={String(stats.byMediaType[type].files)}
            note={formatBytes(stats.byMediaType[type].bytes)}
          />
        ))}
        <Card
          label="Duplicates"
          value={String(stats.duplicates)}
          note={`${formatBytes(stats.duplicateBytesSaved)} saved`}
        />
        <Card label="Active tasks" value={String(stats.activeTasks)} />
      </div>

      <h2>Start an ingest</h2>
      <form id="ingest">
        <textarea id="urls" name="urls" placeholder="One URL per line" required />
        <button type="submit">Ingest</button> <span class="error" id="ingest-error" />
      </form>

      <h2>Tasks</h2>
      <table id="tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th>Kind</th>
            <th>Status</th>
            <th>Progress</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.tasks.map((task) => (
            <TaskRow task={task} />
          ))}
        </tbody>
      </table>
      {props.tasks.length === 0 ? <p class="muted">No tasks yet.</p> : null}

      {props.workers ? (
        <>
          <h2>Workers</h2>
          <WorkersTable workers={props.workers} />
          <ActiveTasksTable tasks={props.activeByTask ?? []} />
        </>
      ) : null}
    </Layout>
  );
}

function Card({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div class="card" data-card={label}>
      <div class="muted">{label}</div>
      <div class="value">{value}</div>
      {note ? <div class="muted">{note}</div> : null}
    </div>
  );
}

export function WorkersTable({ workers }: { workers: (WorkerInfo & { activeItems: number })[] }) {
  return (
    <table id="workers">
      <thead>
        <tr>
          <th>Worker</th>
          <th>State</th>
          <th>Queues</th>
          <th>Active / concurrency</th>
          <th>Items running</th>
          <th>Processed</th>
          <th>Failed</th>
          <th>Last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        {workers.map((worker) => (
          <tr data-worker-id={worker.id}>
            <td>{worker.id}</td>
            <td class={`status ${worker.state}`}>{worker.state}</td>
            <td>{worker.queues.join(', ')}</td>
            <td>
              {worker.active} / {worker.concurrency}
            </td>
            <td>{worker.activeItems}</td>
            <td>{worker.processed}</td>
            <td>{worker.failed}</td>
            <td class="muted">{ago(worker.lastSeen)}</td>
          </tr>
        ))}
        {workers.length === 0 ? (
          <tr>
            <td colspan={8} class="muted">
              No workers running: start one with <code>mediaforge worker</code>.
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

/** Running items per task and per worker within it, with the task's own cap. */
function ActiveTasksTable({ tasks }: { tasks: TaskActivity[] }) {
  if (tasks.length === 0) return <p class="muted">No items running.</p>;
  return (
    <table id="active-tasks">
      <thead>
        <tr>
          <th>Task</th>
          <th>Kind</th>
          <th>Queue</th>
          <th>Running / cap</th>
          <th>Per worker</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((task) => (
          <tr data-task-id={task.taskId}>
            <td>
              <a href={`/dashboard/tasks/${task.taskId}`}>{task.taskId}</a>
            </td>
            <td>{task.kind}</td>
            <td>{task.queue}</td>
            <td>
              {task.running} / {task.maxConcurrent ?? '-'}
            </td>
            <td class="muted">
              {Object.entries(task.byWorker)
                .map(([worker, n]) => `${worker}: ${n}`)
                .join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TaskPage({
  user,
  task,
  items,
  nextAfterSeq,
  throughput,
  webhook,
}: {
  user: string;
  task: TaskStatusView;
  items: TaskItemRow[];
  /** The page's items are not the last: where the next page starts. */
  nextAfterSeq?: number;
  throughput: { preset: WindowPreset; window: TimeWindow; series: Series[] };
  webhook: TaskWebhookView | null;
}) {
  return (
    <Layout title={`Task ${shortId(task.taskId)}`} user={user}>
      <h1>
        Task <code>{task.taskId}</code>
      </h1>
      <table id="task">
        <tbody>
          <TaskRow task={task} />
        </tbody>
      </table>
      {task.error ? (
        <p class="error">
          {task.error.code}: {task.error.message}
        </p>
      ) : null}
      <RetryButton task={task} />
      <WebhookSection webhook={webhook} />
      <h2>Throughput</h2>
      <WindowPicker path={`/dashboard/tasks/${task.taskId}`} preset={throughput.preset} />
      <RateCharts id="task-throughput" series={throughput.series} window={throughput.window} label={shortId} />
      <h2>Items</h2>
      <table id="items">
        <thead>
          <tr>
            <th>#</th>
            <th>Input</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Result or error</th>
            <th>Worker</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr data-item-seq={item.seq}>
              <td>{item.seq + 1}</td>
              <td>{String(item.payload.url ?? item.payload.uid ?? item.payload.action ?? '')}</td>
              <td class={`status ${item.status}`}>{item.status}</td>
              <td>{item.attempts}</td>
              <td>
                {item.errorCode ? (
                  <span class="error">
                    {item.errorCode}: {item.errorMessage}
                  </span>
                ) : typeof item.result?.recordUid === 'string' ? (
                  <a href={`/dashboard/records/${item.result.recordUid}`}>{item.result.recordUid}</a>
                ) : null}
              </td>
              <td class="muted">{item.lockedBy ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {nextAfterSeq === undefined ? null : (
        <p>
          <a href={`/dashboard/tasks/${task.taskId}?window=${throughput.preset}&afterSeq=${nextAfterSeq}`}>
            Next items →
          </a>
        </p>
      )}
    </Layout>
  );
}
