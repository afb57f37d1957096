/** Express plumbing shared by the REST data-plane routes: token check, JSON bodies, Confluent-style errors. */
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { ServiceContext } from './context';
import { gate, header } from './http';
import { REST_ERRORS, RestError, sendRestError } from './rest-errors';

/** Up to 500 records of up to ~1 MB each would not fit; this matches what the broker takes per request. */
const BODY_LIMIT = '16mb';

export const V2_CONTENT_TYPE = 'application/vnd.kafka.v2+json';

/** A handler whose RestError becomes its answer; anything else goes to the app's error handler (500). */
export function restRoute(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch((err: unknown) => {
      if (err instanceof RestError) sendRestError(res, err);
      else next(err);
    });
  };
}

/**
 * The v3 token check (Subject header + "Authorization: Bearer"), answered as 401 / 40101 with the
 * real service's reason: a Confluent-style client reads only error replies with a status.
 */
export function restAuth(ctx: ServiceContext): RequestHandler {
  const check = async (req: Request, res: Response): Promise<boolean> => {
    const subject = header(req, 'subject');
    const authorization = header(req, 'authorization');
    if (subject === undefined || authorization === undefined) {
      const missing = [subject === undefined ? 'Subject' : '', authorization === undefined ? 'Authorization' : ''].filter(Boolean);
      sendRestError(res, new RestError(401, REST_ERRORS.unauthorized, `Missing header(s): ${missing.join(', ')}`));
      return false;
    }
    const failure = await ctx.checkToken(subject, authorization);
    if (failure) {
      ctx.stats.countAuthFailure();
      sendRestError(res, new RestError(401, REST_ERRORS.unauthorized, failure.reason));
      return false;
    }
    res.locals.subject = subject;
    return true;
  };
  return gate(check);
}

export function restSubject(res: Response): string {
  return res.locals.subject as string;
}

/** JSON bodies in application/json or the REST Proxy's v2 type; a bad body is a 400 / 40001, too large a 413. */
export function restJson(): Array<RequestHandler | ErrorRequestHandler> {
  const parse = express.json({ limit: BODY_LIMIT, strict: false, type: ['application/json', V2_CONTENT_TYPE, 'application/*+json'] });
  const translate: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    const type = (err as { type?: string } | undefined)?.type;
    if (type === 'entity.parse.failed') sendRestError(res, new RestError(400, REST_ERRORS.badRequest, `Malformed JSON body: ${(err as Error).message}`));
    else if (type === 'entity.too.large') sendRestError(res, new RestError(413, REST_ERRORS.tooLarge, `Request body larger than ${BODY_LIMIT}`));
    else next(err);
  };
  return [parse, translate];
}
