import { CODES } from '../core/codes.js';
import type { WritError } from '../core/errors.js';
import type { Answer, Reply } from './context.js';

export function okAnswer(requestId: string, commandHash: string, result: unknown, receipt: Answer['receipt']): Answer {
  return { status: 'OK', requestId, commandHash, result: result ?? null, receipt };
}

export function errorAnswer(err: WritError, requestId: string | null, commandHash: string | null, receipt?: Answer['receipt']): Answer {
  return {
    status: 'ERROR',
    code: err.code,
    message: err.message,
    requestId,
    commandHash,
    ...(err.details ? { details: err.details } : {}),
    ...(receipt ? { receipt } : {}),
  };
}

export function toReply(answer: Answer, retryAfter?: number): Reply {
  const httpStatus = answer.code ? CODES[answer.code].http : 200;
  return { httpStatus, body: JSON.stringify(answer), replayed: false, ...(answer.code ? { code: answer.code } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) };
}
