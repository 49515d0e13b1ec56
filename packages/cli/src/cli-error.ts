/** The CLI's one error type for problems with how it was called (exit code 2). */
export class CLIError extends Error {
  constructor(
    message: string,
    readonly code = 'USAGE',
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CLIError';
  }
}
