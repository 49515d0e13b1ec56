/** `--notify-url`, `--notify-secret`, `--notify-each-item` and `--idempotency-key` of `ingest|generate --background`. */
import type { WebhookSpec } from '@mediaforge/core';
import { CLIError } from './cli-error.ts';

export const notifyArgs = {
  'notify-url': {
    type: 'string',
    description: 'With --background: POST a signed event to this URL when the task finishes (docs/webhooks.md)',
  },
  'notify-secret': {
    type: 'string',
    description: 'HMAC secret for --notify-url, 16-256 characters (or set MEDIAFORGE_NOTIFY_SECRET)',
  },
  'notify-each-item': { type: 'boolean', description: 'With --notify-url: also send an event per item' },
  'idempotency-key': {
    type: 'string',
    description: 'With --background: the same key and request within 24 h return the first task',
  },
} as const;

export interface NotifyArgs {
  'notify-url'?: string;
  'notify-secret'?: string;
  'notify-each-item'?: boolean;
  'idempotency-key'?: string;
  'allow-private'?: boolean;
  background?: boolean;
}

/** The webhook and idempotency key the flags ask for; refused without --background. */
export function notifyOptions(args: NotifyArgs): { webhook?: WebhookSpec; idempotencyKey?: string } {
  const url = args['notify-url'];
  const key = args['idempotency-key'];
  if ((url !== undefined || key !== undefined) && !args.background) {
    throw new CLIError('--notify-url and --idempotency-key apply to --background tasks');
  }
  if (url === undefined) {
    if (args['notify-secret'] !== undefined || args['notify-each-item']) throw new CLIError('give --notify-url too');
    return key === undefined ? {} : { idempotencyKey: key };
  }
  // The environment keeps the secret out of the process list; the flag is there for scripts that prefer it.
  const secret = args['notify-secret'] ?? process.env.MEDIAFORGE_NOTIFY_SECRET;
  if (!secret) throw new CLIError('--notify-url needs --notify-secret (or MEDIAFORGE_NOTIFY_SECRET)');
  return {
    webhook: {
      url,
      secret,
      eachItem: args['notify-each-item'] ?? false,
      allowPrivate: args['allow-private'] ?? false,
    },
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}
