/** Express plumbing that makes the emulator answer like the real FastAPI service. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceClosedError } from './timers';

/** Express 4 does not catch rejected promises: route them to the error handler. */
export function asyncRoute(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

/** Middleware from an async check that either answered the request (false) or lets it through (true). */
export function gate(check: (req: Request, res: Response) => Promise<boolean>): RequestHandler {
  return (req, res, next) => {
    check(req, res).then((proceed) => {
      if (proceed) next();
    }, next);
  };
}

/** A header as FastAPI's Header(...) sees it: present (possibly empty) or missing. */
export function header(req: Request, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** FastAPI's 422 body for required headers that are missing (pydantic v2 wording). */
export function missingHeaders(res: Response, names: string[]): void {
  res.status(422).json({
    detail: names.map((name) => ({ type: 'missing', loc: ['header', name], msg: 'Field required', input: null })),
  });
}

export function methodNotAllowed(_req: Request, res: Response): void {
  res.status(405).json({ detail: 'Method Not Allowed' });
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).json({ detail: 'Not Found' });
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/**
 * Last handler: a malformed JSON body gets FastAPI's 422; anything else is what an unhandled
 * exception gives in FastAPI, a plain-text 500, with the cause in the emulator's log only.
 */
export function errorHandler(log: (line: string) => void) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const parserError = err as BodyParserError;
    if (parserError?.type === 'entity.parse.failed') {
      res.status(422).json({
        detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: parserError.message } }],
      });
      return;
    }
    if (parserError?.type === 'entity.too.large') {
      res.status(413).json({ detail: 'Request Entity Too Large' });
      return;
    }
    if (!(err instanceof ServiceClosedError)) {
      log(`${req.method} ${req.path} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    res.status(500).type('text/plain').send('Internal Server Error');
  };
}
