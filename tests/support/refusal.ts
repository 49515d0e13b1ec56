import { expect } from 'bun:test';
import { FileProcessingError } from '@mediaforge/core';

/** The typed error `promise` rejects with, checked to carry `code`. */
export async function refusal(promise: Promise<unknown>, code = 'QUOTA_EXCEEDED'): Promise<FileProcessingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FileProcessingError);
  expect((error as FileProcessingError).code as string).toBe(code);
  return error as FileProcessingError;
}
