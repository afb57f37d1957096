/**
 * One HTTP call to the Diaspora web service, with the answer classified by its `status` field
 * only (never by its message text), as every API version shares that convention.
 */
import { isLoopback } from '../loopback';

export type DiasporaServiceErrorKind = 'auth' | 'refused' | 'unreachable' | 'protocol' | 'invalid';

/** Every failure of a Diaspora service call; `message` is safe to show (no token, no key). */
export class DiasporaServiceError extends Error {
  constructor(
    readonly kind: DiasporaServiceErrorKind,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'DiasporaServiceError';
  }
}

export interface ServiceContext {
  /** Base URL without a trailing slash. */
  baseUrl: string;
  subject: string;
  accessToken: () => Promise<string>;
  timeoutMs: number;
}

export interface ServiceCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Extra headers (e.g. v1 `Topic`). */
  headers?: Record<string, string>;
  /** Names the operation in messages, e.g. `register topic "x"`. */
  what: string;
}

/** A JSON answer whose status is `success` or `no-op`. */
export type ServiceAnswer = Record<string, unknown> & { status: 'success' | 'no-op' };

const MAX_SNIPPET = 200;

/** Validates a service URL and returns it without trailing slashes. */
export function normaliseServiceUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(typeof raw === 'string' ? raw.trim() : '');
  } catch {
    throw new DiasporaServiceError('invalid', `Diaspora service URL "${String(raw)}" is not a valid URL.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new DiasporaServiceError('invalid', 'Diaspora service URL must be a plain base URL (no credentials, query or fragment).');
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new DiasporaServiceError(
      'invalid',
      `Refusing plain http for the Diaspora service at ${url.origin}: the Globus token would cross the network unencrypted. Use https (plain http is allowed only on a loopback host).`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DiasporaServiceError('invalid', `Diaspora service URL must use https, not ${url.protocol}`);
  }
  return url.href.replace(/\/+$/, '');
}

export async function callService(ctx: ServiceContext, call: ServiceCall): Promise<ServiceAnswer> {
  const url = `${ctx.baseUrl}${call.path}`;
  const token = await ctx.accessToken();
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: call.method,
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${token}`,
        Subject: ctx.subject,
        ...call.headers,
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    throw unreachable(err, url, call.what, ctx.timeoutMs);
  }
  const redact = (s: string): string => (token ? s.split(token).join('<token>') : s);

  if (response.status >= 300) {
    const snippet = redact(summarise(text, response.headers.get('content-type')));
    const detail = snippet ? ` (answer: ${snippet})` : '';
    if (response.status === 401 || response.status === 403) {
      throw new DiasporaServiceError('auth', `Diaspora service at ${url} refused the credentials (HTTP ${response.status}) while trying to ${call.what}${detail}. Sign in again.`, response.status);
    }
    if (response.status >= 500 || response.status === 429) {
      throw new DiasporaServiceError('unreachable', `Diaspora service at ${url} answered HTTP ${response.status} while trying to ${call.what}${detail}: it may be down or overloaded; retry later.`, response.status);
    }
    const hint = response.status < 400 ? 'a redirect; check the service URL' : 'check the service URL and the API version';
    throw new DiasporaServiceError('protocol', `Diaspora service at ${url} answered HTTP ${response.status} while trying to ${call.what}${detail}: ${hint}.`, response.status);
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const looksHtml = /^\s*</.test(text) || (response.headers.get('content-type') ?? '').includes('html');
    throw new DiasporaServiceError(
      'protocol',
      looksHtml
        ? `${url} answered an HTML page instead of JSON while trying to ${call.what}: is the service URL the Diaspora web service (not a proxy or login page)?`
        : `${url} answered something that is not JSON while trying to ${call.what}: is the service URL the Diaspora web service?`,
      response.status,
    );
  }
  const answer = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (!answer || typeof answer.status !== 'string') {
    throw new DiasporaServiceError('protocol', `${url} answered JSON without a "status" field while trying to ${call.what}: is the service URL the Diaspora web service?`, response.status);
  }
  switch (answer.status) {
    case 'success':
    case 'no-op':
      return answer as ServiceAnswer;
    case 'error': {
      // Authentication failures carry `reason`; the v1 service also used `error` + `message` for refusals.
      if (typeof answer.reason === 'string') {
        throw new DiasporaServiceError('auth', `Diaspora service rejected the request to ${call.what}: ${redact(answer.reason)}`);
      }
      throw new DiasporaServiceError('refused', `Diaspora service refused to ${call.what}: ${redact(messageOf(answer))}`);
    }
    case 'failure':
      throw new DiasporaServiceError('refused', `Diaspora service refused to ${call.what}: ${redact(messageOf(answer))}`);
    default:
      throw new DiasporaServiceError('protocol', `${url} answered an unknown status "${answer.status.slice(0, 40)}" while trying to ${call.what}.`);
  }
}

function messageOf(answer: Record<string, unknown>): string {
  if (typeof answer.message === 'string' && answer.message) return answer.message;
  if (typeof answer.reason === 'string' && answer.reason) return answer.reason;
  return '(no message given)';
}

function summarise(text: string, contentType: string | null): string {
  if (/^\s*</.test(text) || (contentType ?? '').includes('html')) return 'an HTML page';
  try {
    const parsed: unknown = JSON.parse(text);
    const obj = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    const message = obj?.message ?? obj?.detail ?? obj?.reason;
    if (typeof message === 'string') return message.slice(0, MAX_SNIPPET);
    if (message !== undefined) return JSON.stringify(message).slice(0, MAX_SNIPPET);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_SNIPPET);
}

function unreachable(err: unknown, url: string, what: string, timeoutMs: number): DiasporaServiceError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new DiasporaServiceError('unreachable', `Diaspora service at ${url} did not answer within ${Math.round(timeoutMs / 100) / 10} s while trying to ${what}: check the service URL and the network, then retry.`);
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : String(err);
  return new DiasporaServiceError('unreachable', `Could not reach the Diaspora service at ${url} (${code}) while trying to ${what}: check the service URL and that the service is running.`);
}
