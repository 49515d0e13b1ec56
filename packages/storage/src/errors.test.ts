import { describe, expect, test } from 'bun:test';
import { FileProcessingError } from '@mediaforge/core';
import { InvalidKeyError, StorageError } from './errors.ts';

describe('StorageError', () => {
  test('is a FileProcessingError: callers read code and transient as for any typed error', () => {
    const error = new StorageError('s3', 'STORAGE_TRANSIENT', 'connect ECONNREFUSED');
    expect(error).toBeInstanceOf(FileProcessingError);
    expect(error).toMatchObject({ code: 'STORAGE_TRANSIENT', transient: true, driver: 's3', name: 'StorageError' });
    expect(error.toJSON()).toEqual({
      code: 'STORAGE_TRANSIENT',
      message: '[s3] connect ECONNREFUSED',
      details: { driver: 's3' },
    });
  });

  test('only STORAGE_TRANSIENT is transient', () => {
    expect(new StorageError('file', 'STORAGE_ERROR', 'x').transient).toBe(false);
    expect(new InvalidKeyError('file', '../x', 'escapes')).toMatchObject({
      code: 'STORAGE_INVALID_KEY',
      transient: false,
      name: 'InvalidKeyError',
    });
  });
});
