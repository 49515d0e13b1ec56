// The dashboard's behaviour: sign in/out, start an ingest, cancel, live task progress (SSE), worker refresh.
// Plain browser JavaScript served as is; every call goes to the JSON API with the session cookie.

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(data?.error?.message ?? `HTTP ${response.status}`);
  return data;
}

function updateRow(row, task) {
  const status = row.querySelector('[data-field="status"]');
  status.textContent = task.status;
  status.className = `status ${task.status}`;
  row.querySelector('[data-field="percent"]').textContent = `${task.progress.percent}%`;
  row.querySelector('[data-field="counts"]').textContent =
    `${task.progress.succeeded} ok · ${task.progress.failed} failed · ${task.progress.total} total`;
  const bar = row.querySelector('.bar');
  bar.className = `bar ${task.status}`;
  bar.setAttribute('aria-valuenow', String(task.progress.percent));
  bar.querySelector('.fill').style.width = `${Math.min(100, task.progress.percent)}%`;
  if (TERMINAL.has(task.status)) {
    row.removeAttribute('data-live');
    row.querySelector('button.cancel')?.remove();
  }
}

function follow(row) {
  const id = row.dataset.taskId;
  const source = new EventSource(`/v1/tasks/${id}/events`);
  source.addEventListener('progress', (event) => updateRow(row, JSON.parse(event.data)));
  source.addEventListener('done', (event) => {
    updateRow(row, JSON.parse(event.data));
    source.close();
    // The task page lists items: show their final state.
    if (document.getElementById('items')) setTimeout(() => location.reload(), 300);
  });
}

function wire() {
  document.getElementById('sign-out')?.addEventListener('click', async () => {
    await fetch('/session', { method: 'DELETE', credentials: 'same-origin' });
    location.href = '/dashboard/login';
  });

  const login = document.getElementById('login');
  login?.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/session', { key: document.getElementById('key').value.trim() });
      location.href = '/dashboard';
    } catch (error) {
      document.getElementById('login-error').textContent = error.message;
    }
  });

  const ingest = document.getElementById('ingest');
  ingest?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const urls = document
      .getElementById('urls')
      .value.split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    try {
      const queued = await api('POST', '/v1/ingest', { urls });
      location.href = `/dashboard/tasks/${queued.taskId}`;
    } catch (error) {
      document.getElementById('ingest-error').textContent = error.message;
    }
  });

  for (const button of document.querySelectorAll('button.cancel')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const task = await api('DELETE', `/v1/tasks/${button.dataset.taskId}`);
        for (const row of document.querySelectorAll(`tr[data-task-id="${task.taskId}"]`)) updateRow(row, task);
      } catch (error) {
        button.disabled = false;
        alert(error.message);
      }
    });
  }

  for (const button of document.querySelectorAll('button.retry')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('POST', `/v1/tasks/${button.dataset.taskId}/retry`);
        location.reload();
      } catch (error) {
        button.disabled = false;
        alert(error.message);
      }
    });
  }

  for (const row of document.querySelectorAll('tr[data-live="true"]')) follow(row);

  const workers = document.getElementById('workers');
  if (workers) setInterval(() => refreshWorkers(workers), 5000);
}

async function refreshWorkers(table) {
  try {
    const { workers } = await api('GET', '/v1/workers');
    const body = table.querySelector('tbody');
    body.replaceChildren(
      ...workers.map((worker) => {
        const row = document.createElement('tr');
        row.dataset.workerId = worker.id;
        const cells = [
          worker.id,
          worker.state,
          worker.queues.join(', '),
          `${worker.active} / ${worker.concurrency}`,
          String(worker.activeItems),
          String(worker.processed),
          String(worker.failed),
          `${Math.round((Date.now() - Date.parse(worker.lastSeen)) / 1000)}s ago · ${worker.itemsPerMinute}/min`,
        ];
        for (const text of cells) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
  } catch {
    // Keep the last table; the next refresh tries again.
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
else wire();
