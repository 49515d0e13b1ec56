/** Queue names: checked once here, so the claim may write a worker's queue list into its statement as literals. */
import { FileProcessingError } from '../errors.ts';

const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function validateQueueName(name: string): string {
  if (!QUEUE_NAME.test(name)) {
    throw new FileProcessingError(
      `Invalid queue name ${JSON.stringify(name)}: use 1-63 characters of a-z, 0-9, _ and -.`,
      'INVALID_QUEUE',
    );
  }
  return name;
}
