/**
 * Who an operation acts for: one user (their records, objects and tasks only) or everyone (admin keys, the CLI).
 * Every core operation on records, objects and tasks takes one, so no caller can forget to check ownership: a uid
 * outside the scope behaves exactly like one that does not exist.
 */
import { eq, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

export type Scope = { readonly all: true } | { readonly all?: false; readonly userId: string };

/** Everyone's data: admin API keys, the CLI and the library used directly. */
export const ALL_USERS: Scope = Object.freeze({ all: true });

/** One user's data. */
export function userScope(userId: string): Scope {
  return { userId };
}

/** The SQL condition limiting `column` (an owner column) to the scope; `undefined` for everyone. */
export function scopeCondition(column: PgColumn, scope: Scope): SQL | undefined {
  return scope.all ? undefined : eq(column, scope.userId);
}

/** True when a row owned by `ownerId` is visible in the scope. */
export function inScope(scope: Scope, ownerId: string | null | undefined): boolean {
  return scope.all === true || ownerId === scope.userId;
}

/** The user of a scope (`undefined` for everyone), for APIs that take an optional owner filter. */
export function scopeUser(scope: Scope): string | undefined {
  return scope.all ? undefined : scope.userId;
}
