import { expect, test } from 'bun:test';
import { FileProcessingError } from './errors.ts';
import { asTypedError } from './typed-error.ts';

test('a raw socket reset is a transient NETWORK_ERROR; an unknown failure an INTERNAL_ERROR not retried', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  expect(asTypedError(reset)).toMatchObject({
    code: 'NETWORK_ERROR',
    transient: true,
    details: { code: 'ECONNRESET' },
  });
  const bug = Object.assign(new Error('no such file'), { code: 'ENOENT' });
  expect(asTypedError(bug)).toMatchObject({ code: 'INTERNAL_ERROR', transient: false });
  const ours = new FileProcessingError('busy', 'RECORD_BUSY', { transient: true });
  expect(asTypedError(ours)).toBe(ours);
});
