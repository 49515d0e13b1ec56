/** What `--background` prints: the task id and how to follow it. */
import { printJson } from './output.ts';

export function printQueued(taskId: string, total: number, json: boolean | undefined): number {
  if (json) printJson({ taskId, status: 'queued', total });
  else {
    process.stdout.write(`${taskId}\n`);
    process.stderr.write(
      `queued ${total} item(s) as task ${taskId}; follow it with \`mediaforge jobs watch ${taskId}\` ` +
        '(a worker must be running: `mediaforge worker`)\n',
    );
  }
  return 0;
}
