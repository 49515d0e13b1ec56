/** Raised by format validators; the dispatcher turns it into an IntegrityError naming the content type. */
export class FormatProblem extends Error {}

export function fail(message: string): never {
  throw new FormatProblem(message);
}
