/** The `limit` of every list whose pages a byte budget can end sooner (records, dead letters, a task's items). */
import { z } from '@hono/zod-openapi';

/** 1–1000 items a page; `description` says what ends a page sooner and how to page on. */
export const pageLimit = (description: string) =>
  z.coerce.number().int().min(1).max(1000).optional().openapi({ description });
