import { describe, expect, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { DatabaseError, FileProcessingError } from '../errors.ts';
import { openDatabase } from './database.ts';
import { asDatabaseError, ILL_FORMED_TEXT_MESSAGE, isTransientDatabaseFailure } from './errors.ts';

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('asDatabaseError', () => {
  test('a lost connection is a transient DatabaseError that names the reason, not the SQL', async () => {
    // Port 1 on loopback: nothing listens, so the driver's own connection error comes back through drizzle.
    const client = postgres('postgres://postgres@127.0.0.1:1/none', { connect_timeout: 2, max: 1 });
    const error = await thrown(drizzle({ client }).execute(sql`select ${'secret-param'}::text`));
    await client.end({ timeout: 1 });
    const typed = asDatabaseError(error);
    expect(typed).toBeInstanceOf(DatabaseError);
    expect(typed).toMatchObject({ code: 'DATABASE_ERROR', transient: true });
    expect(typed?.message).toContain('ECONNREFUSED');
    expect(typed?.message).not.toContain('select');
    expect(typed?.message).not.toContain('secret-param');
  });

  test('a constraint violation is a DatabaseError that retrying cannot fix', async () => {
    const database = await openDatabase();
    try {
      await database.db.execute(sql`create table t (id int primary key)`);
      await database.db.execute(sql`insert into t values (1)`);
      const typed = asDatabaseError(await thrown(database.db.execute(sql`insert into t values (1)`)));
      expect(typed).toMatchObject({ code: 'DATABASE_ERROR', transient: false });
      expect(typed?.message).toContain('23505');
    } finally {
      await database.close();
    }
  });

  test("a value PostgreSQL refuses (NUL in text) is INVALID_INPUT, the caller's to fix", async () => {
    const database = await openDatabase();
    try {
      const typed = asDatabaseError(await thrown(database.db.execute(sql`select ${'a\u0000b'}::text`)));
      expect(typed).toMatchObject({ code: 'INVALID_INPUT', transient: false, details: {} });
      // Said about the input, without the server's wording or SQLSTATE (those stay in the cause, for the log).
      expect(typed?.message).toBe('Invalid text: values may not contain NUL (\\u0000) characters or invalid UTF-8.');
      // jsonb refuses an escaped lone surrogate, naming it only in its DETAIL line.
      const json = asDatabaseError(await thrown(database.db.execute(sql`select ${'{"a":"\\ud800"}'}::jsonb`)));
      expect(json).toMatchObject({ code: 'INVALID_INPUT', message: ILL_FORMED_TEXT_MESSAGE });
      const out = asDatabaseError(await thrown(database.db.execute(sql`select ${'99999999999'}::int`)));
      expect(out).toMatchObject({ code: 'INVALID_INPUT', message: 'A number is out of range.' });
    } finally {
      await database.close();
    }
  });

  test('other errors are left alone', () => {
    expect(asDatabaseError(new Error('boom'))).toBeUndefined();
    expect(asDatabaseError(new FileProcessingError('typed already', 'INTEGRITY_ERROR'))).toBeUndefined();
    expect(asDatabaseError('a string')).toBeUndefined();
  });
});

test('isTransientDatabaseFailure: a connection reset under a query may pass, a refused statement or a bug may not', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
  expect(asDatabaseError(reset)).toBeUndefined();
  expect(isTransientDatabaseFailure(reset)).toBe(true);
  const closed = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
  expect(isTransientDatabaseFailure(closed)).toBe(true);
  const refused = Object.assign(new Error('syntax error'), { name: 'PostgresError', code: '42601' });
  expect(isTransientDatabaseFailure(refused)).toBe(false);
  const aborted = Object.assign(new Error('current transaction is aborted, commands ignored until end of block'), {
    name: 'PostgresError',
    code: '25P02',
  });
  expect(isTransientDatabaseFailure(aborted)).toBe(false);
  expect(isTransientDatabaseFailure(new TypeError('x is not a function'))).toBe(false);
  expect(isTransientDatabaseFailure(new DatabaseError('lost', { transient: true }))).toBe(true);
});
