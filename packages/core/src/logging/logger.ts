/** Structured logging: JSON lines on stderr, human-readable when stderr is a terminal. */
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { LogLevel } from '../config/env-schema.ts';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'password',
  'secret',
  'secretAccessKey',
  'accessKeyId',
  'serviceRoleKey',
  'apiKey',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.password',
  '*.secretAccessKey',
  '*.accessKeyId',
  '*.serviceRoleKey',
  '*.apiKey',
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Force pretty (true) or JSON (false) output; by default pretty only on a TTY. */
  pretty?: boolean;
  /** Where lines go; defaults to stderr so stdout stays free for `--json` output. */
  destination?: NodeJS.WritableStream;
  /** Runs before each line is written: the CLI clears its progress bar so a line never lands on the bar's. */
  beforeLine?: () => void;
}

export function createLogger({
  level = 'info',
  pretty: wantPretty,
  destination,
  beforeLine,
}: LoggerOptions = {}): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    ...(beforeLine
      ? {
          hooks: {
            logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info']) {
              beforeLine();
              method.apply(this, args);
            },
          },
        }
      : {}),
  };
  const usePretty = wantPretty ?? (destination === undefined && process.stderr.isTTY === true);
  if (usePretty) {
    // Loaded only for a terminal (~30 ms of every start otherwise; JSON lines need none of it).
    const pretty = (require('pino-pretty') as { default: typeof PinoPretty }).default;
    return pino(options, pretty({ colorize: true, destination: destination ?? 2, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(options, destination ?? pino.destination({ dest: 2, sync: true }));
}
