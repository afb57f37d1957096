/** Runs the token check for a route and answers the real service's refusal. */
import type { Response } from 'express';
import type { ServiceContext } from './context';

/** True when the caller may proceed; otherwise the HTTP 200 {"status":"error","reason"} was sent. */
export async function authorize(ctx: ServiceContext, res: Response, subject: string, authorization: string): Promise<boolean> {
  const failure = await ctx.checkToken(subject, authorization);
  if (!failure) return true;
  ctx.stats.countAuthFailure();
  res.json(failure);
  return false;
}
