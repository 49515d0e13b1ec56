import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  test('writes JSON lines at the configured level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'warn', pretty: false, destination });
    logger.info('hidden');
    logger.warn({ item: 1 }, 'shown');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 40, msg: 'shown', item: 1 });
  });

  test('beforeLine runs before each written line (child loggers too), never for a level that is off', () => {
    const events: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        events.push(`line ${JSON.parse(chunk.toString()).msg}`);
        done();
      },
    });
    const logger = createLogger({ level: 'info', pretty: false, destination, beforeLine: () => events.push('clear') });
    logger.debug('hidden');
    logger.info('one');
    logger.child({ url: 'u' }).warn('two');
    expect(events).toEqual(['clear', 'line one', 'clear', 'line two']);
  });

  test('secrets never reach a log line', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ pretty: false, destination });
    logger.info({ s3: { secretAccessKey: 'sk-123', accessKeyId: 'ak-456' }, password: 'pw-789' }, 'connecting');
    const line = lines.join('\n');
    for (const secret of ['sk-123', 'ak-456', 'pw-789']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });
});
