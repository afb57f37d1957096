/**
 * Errors of the REST data plane (produce and consumer routes), answered as Confluent's REST APIs
 * do: HTTP status plus a JSON body {"error_code", "message"} whose code is the status followed by
 * two digits. The codes the Diaspora SDK acts on (40403, 40903, 42901, 50302) are the service's;
 * the others are this emulator's choice, listed in docs/rest.md.
 */
import type { Response } from 'express';

export const REST_ERRORS = {
  badRequest: 40001,
  badBatch: 40003,
  timestampWithoutOffset: 40005,
  unauthorized: 40101,
  namespaceNotOwned: 40301,
  topicNotFound: 40401,
  partitionNotFound: 40402,
  instanceNotFound: 40403,
  notAcceptable: 40601,
  instanceExists: 40902,
  notAssigned: 40903,
  instanceLimit: 40904,
  tooLarge: 41301,
  badValue: 42204,
  notAdmitted: 42901,
  kafkaError: 50002,
  clusterUnreachable: 50302,
} as const;

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** Seconds for a Retry-After header (429 and 503 only). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function sendRestError(res: Response, err: RestError): void {
  if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json({ error_code: err.code, message: err.message });
}

/** 422 / 42204: a request value the route cannot take. */
export function badValue(message: string): RestError {
  return new RestError(422, REST_ERRORS.badValue, message);
}
