/** The CLI's one error type for problems with how it was called: always exit code 2, whatever its code says. */
import type { ErrorCode } from '@mediaforge/core';
import { FileProcessingError } from '@mediaforge/core/errors';

export class CLIError extends FileProcessingError {
  constructor(message: string, code: ErrorCode = 'USAGE') {
    super(message, code);
  }
}
