/** The CLI's one error type for problems with how it was called: always exit code 2, whatever its code says. */
import { type ErrorCode, FileProcessingError } from '@mediaforge/core';

export class CLIError extends FileProcessingError {
  constructor(message: string, code: ErrorCode = 'USAGE') {
    super(message, code);
  }
}
