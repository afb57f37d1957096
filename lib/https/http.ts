/**
 * One request to the Diaspora web service's REST data plane (records and consumers), with the
 * Globus token and subject, Confluent-style error bodies (`{error_code, message}`) turned into
 * RestError, and the only retries that cannot duplicate a record: 429 (after Retry-After), 503 and
 * a request that never connected. Node's built-in fetch; nothing here imports Node-RED.
 */
import { KafkaClientError, type KafkaErrorKind } from '../kafka/errors';

export interface RestContext {
  /** The service's base URL, without a trailing slash. */
  baseUrl: string;
  subject: string;
  accessToken: () => Promise<string>;
  /** Per request, unless the call sets its own (long-poll fetches do). */
  timeoutMs: number;
}

export interface RestCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** A path relative to the base URL, or an absolute URL already checked to be on its origin. */
  url: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  /** Aborts the request early (the consumer is stopping). */
  signal?: AbortSignal;
  /** Names the operation in messages, e.g. `produce to "t"`. */
  what: string;
}

export interface RestAnswer {
  status: number;
  body: unknown;
}

/**
 * A failed REST call. `code` is the service's error_code (e.g. 40403), or the HTTP status times 100
 * when the answer had none; 0 when there was no answer. As a KafkaClientError it carries the kind
 * the nodes already branch on (transient = worth trying again later).
 */
export class RestError extends KafkaClientError {
  override name = 'RestError';
  constructor(
    kind: KafkaErrorKind,
    message: string,
    readonly status: number,
    readonly code: number,
    /** Nothing was written: the request never reached the service, or it answered 429 / 503. */
    readonly retriable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(kind, message);
  }
}

/** Error codes the service documents; see the REST data plane reference. */
export const REST_CODES = {
  instanceNotFound: 40403,
  noPartitionsYet: 40903,
  instanceExists: 40902,
  instanceLimit: 40904,
  notAdmitted: 42901,
  clusterUnreachable: 50302,
} as const;

const MAX_SNIPPET = 300;

/** Connection failures that happen before any byte of the request reached a server. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export async function restRequest(ctx: RestContext, call: RestCall): Promise<RestAnswer> {
  const url = call.url.startsWith('/') ? `${ctx.baseUrl}${call.url}` : call.url;
  const token = await ctx.accessToken();
  const timeoutMs = call.timeoutMs ?? ctx.timeoutMs;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: call.method,
      headers: {
        Accept: call.accept ?? 'application/json',
        Authorization: `Bearer ${token}`,
        Subject: ctx.subject,
        ...(call.body !== undefined ? { 'Content-Type': call.contentType ?? 'application/json' } : {}),
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      redirect: 'manual',
      signal: call.signal ? AbortSignal.any([call.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    throw transportError(err, url, call.what, timeoutMs);
  }
  const body = parseJson(text);
  if (response.status < 300) return { status: response.status, body };
  throw answerError(response, body, text, call.what, url, token);
}

export interface RetryPolicy {
  /** Give up retrying after this long in total (the last error is thrown). */
  deadlineMs: number;
  /** First wait without a Retry-After, doubled up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Stops the waits early (the caller is closing). */
  stopped?: () => boolean;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 30_000, firstDelayMs: 250, maxDelayMs: 5_000 };

/** Runs `attempt` again only after a RestError that wrote nothing, until the policy's deadline. */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  let delay = policy.firstDelayMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RestError) || !err.retriable || policy.stopped?.()) throw err;
      const wait = err.retryAfterMs ?? delay;
      if (Date.now() + wait > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (policy.stopped?.()) throw err;
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
}

/** The service's `{error_code, message}`, when the body has them. */
export function serviceError(body: unknown): { code: number; message: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { error_code: code, message } = body as { error_code?: unknown; message?: unknown };
  if (typeof code !== 'number') return undefined;
  return { code, message: typeof message === 'string' ? message : '' };
}

function answerError(response: Response, body: unknown, text: string, what: string, url: string, token: string): RestError {
  const status = response.status;
  const given = serviceError(body);
  const code = given?.code ?? status * 100;
  const detail = redact(given?.message || snippet(text), token);
  const said = detail ? `: ${detail}` : '';
  const retryAfterMs = status === 429 ? retryAfter(response.headers.get('retry-after')) : undefined;
  const retriable = status === 429 || status === 503;
  // 401 is the sign-in's fault, not a key's: kind 'other', so queue mode does not hold the event for a new key.
  const kind: KafkaErrorKind =
    retriable
      ? 'unreachable'
      : status === 403
        ? 'topic-not-authorized'
        : status === 404 && code !== REST_CODES.instanceNotFound
          ? 'unknown-topic'
          : 'other';
  const message =
    status === 401
      ? `the Diaspora service refused the sign-in while trying to ${what} (${code}${said}): sign in again in the diaspora-config node`
      : status === 403
        ? `the Diaspora service refused to ${what} (${code}${said}): is the topic registered in your namespace?`
        : `the Diaspora service could not ${what} (${code}${said})${status >= 500 && !retriable ? '; not retried, as it may have been done already' : ''}`;
  return new RestError(kind, status >= 300 && status < 400 ? `${message}: it answered a redirect to ${response.headers.get('location') ?? '?'}; check the service URL (${url})` : message, status, code, retriable, retryAfterMs);
}

function transportError(err: unknown, url: string, what: string, timeoutMs: number): RestError {
  const origin = safeOrigin(url);
  // Only a request that never connected is known to have written nothing: the others are not
  // transient errors, so neither this client nor a queue sends them again (no duplicates).
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new RestError('other', `the Diaspora service at ${origin} did not answer within ${timeoutMs / 1000} s while trying to ${what}`, 0, 0, false);
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const neverConnected = code !== undefined && NEVER_CONNECTED.has(code);
  return new RestError(
    neverConnected ? 'unreachable' : 'other',
    `could not reach the Diaspora service at ${origin} (${code ?? (err instanceof Error ? err.message : String(err))}) while trying to ${what}`,
    0,
    0,
    neverConnected,
  );
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(60_000, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.min(60_000, Math.max(0, at - Date.now())) : undefined;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function snippet(text: string): string {
  if (/^\s*</.test(text)) return 'an HTML page';
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_SNIPPET);
}

function redact(text: string, token: string): string {
  return token ? text.split(token).join('<token>') : text;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * An instance's base_uri must be on the service's own origin: the token goes there. A service
 * behind a proxy that names another host would otherwise receive the user's Globus token.
 */
export function checkSameOrigin(baseUrl: string, candidate: unknown): string {
  if (typeof candidate !== 'string' || candidate === '') {
    throw new RestError('other', 'the Diaspora service created a consumer instance without a base_uri', 200, 0, false);
  }
  let url: URL;
  try {
    url = new URL(candidate, `${baseUrl}/`);
  } catch {
    throw new RestError('other', `the Diaspora service gave a consumer base_uri that is not a URL: "${candidate.slice(0, 80)}"`, 200, 0, false);
  }
  const expected = new URL(baseUrl).origin;
  if (url.origin !== expected) {
    throw new RestError(
      'other',
      `the Diaspora service gave a consumer base_uri on ${url.origin}, not on its own origin ${expected}: refusing to send the Globus token there`,
      200,
      0,
      false,
    );
  }
  return url.href.replace(/\/+$/, '');
}
