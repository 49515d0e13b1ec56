/** Worker-thread entry of the validation pool: runs one container walk per request, off the caller's event loop. */
import { validateContainer } from './containers.ts';
import { FormatProblem } from './problem.ts';
import type { ValidationReply, ValidationRequest } from './validation-messages.ts';

declare const self: Worker;

const reply = (message: ValidationReply) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ValidationRequest>) => {
  const { id, validator, data } = event.data;
  try {
    reply({ type: 'done', id, info: await validateContainer(validator, data) });
  } catch (error) {
    const kind = error instanceof FormatProblem ? 'problem' : error instanceof RangeError ? 'range' : 'error';
    reply({ type: 'failed', id, kind, message: error instanceof Error ? error.message : String(error) });
  }
};

reply({ type: 'ready' });
