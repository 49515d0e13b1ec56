/** @jsxImportSource hono/jsx */
/** Dashboard pieces for failed work and callbacks: a task's webhook deliveries, its retry button, the dead letters. */
import type { DeadLetter, TaskStatusView, TaskWebhookView } from '@mediaforge/core';
import { ago, Layout, shortId } from './layout.tsx';

/** The task's webhook and each delivery: status, attempts, last HTTP status and answer (already bounded). */
export function WebhookSection({ webhook }: { webhook: TaskWebhookView | null }) {
  if (!webhook) return null;
  return (
    <>
      <h2>Webhook</h2>
      <p>
        <code>{webhook.url}</code>
        {webhook.eachItem ? ' (each item too)' : ''}
      </p>
      <table id="webhook-deliveries">
        <thead>
          <tr>
            <th>Event</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>HTTP</th>
            <th>Last answer or error</th>
            <th>When</th>
          </tr>
        </thead>
        <tbody>
          {webhook.deliveries.map((d) => (
            <tr data-delivery-id={d.id}>
              <td>{d.itemSeq === null ? d.event : `${d.event} #${d.itemSeq + 1}`}</td>
              <td
                class={`status ${d.status === 'succeeded' ? 'succeeded' : d.status === 'failed' ? 'failed' : 'running'}`}
              >
                {d.status}
              </td>
              <td>
                {d.attempts}/{d.maxAttempts}
              </td>
              <td>{d.lastStatus ?? ''}</td>
              <td class={d.lastError ? 'error' : 'muted'}>{(d.lastError ?? d.lastResponse ?? '').slice(0, 200)}</td>
              <td class="muted">
                {d.deliveredAt
                  ? `delivered ${ago(d.deliveredAt)}`
                  : d.nextAttemptAt
                    ? `next at ${d.nextAttemptAt.toISOString().slice(11, 19)}`
                    : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Shown when the task has failed or cancelled items: queues them again (POST /v1/tasks/{id}/retry). */
export function RetryButton({ task }: { task: TaskStatusView }) {
  if (task.progress.failed + task.progress.cancelled === 0) return null;
  return (
    <p>
      <button type="button" class="retry" data-task-id={task.taskId}>
        Retry {task.progress.failed + task.progress.cancelled} failed or cancelled item(s)
      </button>
    </p>
  );
}

export function DeadLettersPage({ user, items }: { user: string; items: DeadLetter[] }) {
  return (
    <Layout title="Dead letters" user={user}>
      <h1>Dead letters</h1>
      <p>Items that failed and will not be tried again. Open a task to retry its failed items.</p>
      <table id="dead-letters">
        <thead>
          <tr>
            <th>Task</th>
            <th>#</th>
            <th>Input</th>
            <th>Attempts</th>
            <th>Last error</th>
            <th>Failed</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr data-task-id={item.taskId}>
              <td>
                <a href={`/dashboard/tasks/${item.taskId}`}>{shortId(item.taskId)}</a>
              </td>
              <td>{item.seq + 1}</td>
              <td>{String(item.payload.url ?? item.payload.uid ?? '')}</td>
              <td>
                {item.attempts}/{item.maxAttempts}
                {item.exhausted ? ' (exhausted)' : ''}
              </td>
              <td class="error">
                {item.errorCode}: {item.errorMessage}
              </td>
              <td class="muted">{item.finishedAt ? ago(item.finishedAt) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
