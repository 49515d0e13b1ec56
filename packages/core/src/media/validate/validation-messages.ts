/** The messages between the validation pool and its worker threads. */
import type { ContainerValidator } from './containers.ts';
import type { FormatInfo } from './media-info.ts';

export interface ValidationRequest {
  id: number;
  validator: ContainerValidator;
  data: Uint8Array | Blob;
}

/** How a failure crossed the thread boundary: FormatProblem and RangeError are rebuilt as themselves. */
export type FailureKind = 'problem' | 'range' | 'error';

export type ValidationReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; info: FormatInfo }
  | { type: 'failed'; id: number; kind: FailureKind; message: string };
