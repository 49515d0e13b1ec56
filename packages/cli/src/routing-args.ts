/** `--queue --priority --max-attempts --soft-timeout --timeout --max-concurrent` for work queued with --background. */
import type { QueueCommon } from '@mediaforge/core';
import { optionalIntArg } from './args.ts';
import { CLIError } from './cli-error.ts';

export const routingArgs = {
  queue: { type: 'string', description: 'With --background: the queue its items go to (default: default)' },
  priority: { type: 'string', description: 'With --background: higher runs first (-1000 to 1000, default 0)' },
  'max-attempts': { type: 'string', description: 'With --background: attempts per item (1-100, default 3)' },
  'soft-timeout': {
    type: 'string',
    description: "With --background: seconds before an item's work is told to stop (default TASK_SOFT_TIMEOUT_MINUTES)",
  },
  timeout: {
    type: 'string',
    description: 'With --background: seconds before an item fails with TASK_TIMEOUT (default TASK_TIMEOUT_MINUTES)',
  },
  'max-concurrent': {
    type: 'string',
    description: 'With --background: items of this task running at once across all workers (1-1000)',
  },
} as const;

export interface RoutingArgs {
  queue?: string;
  priority?: string;
  'max-attempts'?: string;
  'soft-timeout'?: string;
  timeout?: string;
  'max-concurrent'?: string;
  background?: boolean;
}

/** The queue options given, checked; refuses them without --background (an inline run has no queue). */
export function parseRouting(args: RoutingArgs): QueueCommon {
  const given = (['queue', 'priority', 'max-attempts', 'soft-timeout', 'timeout', 'max-concurrent'] as const).filter(
    (name) => args[name] !== undefined,
  );
  if (given.length > 0 && !args.background) {
    throw new CLIError(`--${given[0]} applies to queued work: add --background`);
  }
  const priority = optionalIntArg(args.priority, 'priority', { min: -1000, max: 1000 });
  const maxAttempts = optionalIntArg(args['max-attempts'], 'max-attempts', { max: 100 });
  const soft = optionalIntArg(args['soft-timeout'], 'soft-timeout', { max: 2_147_483 });
  const hard = optionalIntArg(args.timeout, 'timeout', { max: 2_147_483 });
  const maxConcurrent = optionalIntArg(args['max-concurrent'], 'max-concurrent', { max: 1000 });
  return {
    ...(args.queue !== undefined ? { queue: args.queue } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(soft !== undefined ? { softTimeoutMs: soft * 1000 } : {}),
    ...(hard !== undefined ? { timeoutMs: hard * 1000 } : {}),
    ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
  };
}
