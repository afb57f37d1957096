/** The editor's client of the runtime's admin routes (nodes/diaspora-config/admin-routes.ts). */
import { CONFIG_TYPE } from '../../diaspora-config/schema';
import type { LiveSnapshot } from '../live-snapshot';
import type { SpoolSummary } from '../spool-summary';
import { translator } from './i18n';

const t = translator(CONFIG_TYPE);

/** Why a request failed: the HTTP status (0: no answer) and a text to show. */
export interface Failure {
  status: number;
  message: string;
}

export interface SessionStateView {
  state: string;
  reason?: string;
  message?: string;
  waitingSeconds?: number;
  sub?: string;
  username?: string;
  keyCreatedAt?: string;
}

export interface FabricPreset {
  serviceUrl?: string;
  authUrl?: string;
  brokers?: string[];
  clientId?: string;
  users?: { username: string }[];
  clients?: { clientId: string }[];
}

export interface TopicAnswer {
  status?: string;
  message?: string;
  reason?: string;
}

type Answer = Record<string, unknown>;

function request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
  const settings: JQuery.AjaxSettings = { url: `diaspora/${path}`, type: method, dataType: 'text', cache: false };
  if (body !== undefined) {
    settings.contentType = 'application/json';
    settings.data = JSON.stringify(body);
  }
  return new Promise((resolve, reject) => {
    $.ajax(settings).then(
      (text: string) => {
        try {
          resolve(text ? (JSON.parse(text) as Answer) : {});
        } catch {
          reject(failure(200, t('diaspora-config.errors.bad-answer')));
        }
      },
      (xhr: JQuery.jqXHR) => reject(failure(xhr.status, errorText(xhr))),
    );
  });
}

function failure(status: number, message: string): Failure {
  return { status, message };
}

function errorText(xhr: JQuery.jqXHR): string {
  let body = xhr.responseJSON as { error?: unknown; message?: unknown } | undefined;
  if (!body) {
    try {
      body = JSON.parse(xhr.responseText) as { error?: unknown; message?: unknown };
    } catch {
      body = undefined;
    }
  }
  if (body && (body.error || body.message)) return String(body.error || body.message);
  if (xhr.status === 0) return t('diaspora-config.errors.runtime-unreachable');
  return t('diaspora-config.errors.request-failed', { status: xhr.status, message: xhr.statusText || '' });
}

/** A request failure as the user reads it: "deploy first" for a config node the runtime does not know yet. */
export function asFailure(err: unknown): Failure {
  const known = err as Partial<Failure> | undefined;
  return typeof known?.status === 'number' ? (known as Failure) : failure(0, String(err));
}

export function failureText(err: unknown): string {
  const { status, message } = asFailure(err);
  return status === 404 ? t('diaspora-config.errors.deploy-first') : message;
}

function nodeRoute(configId: string, route: string): string {
  return encodeURIComponent(configId) + route;
}

/** One function per admin route. */
export const admin = {
  state: (configId: string) => request('GET', nodeRoute(configId, '/state')) as Promise<SessionStateView & Answer>,
  spools: async (configId: string): Promise<SpoolSummary[]> => {
    const answer = await request('GET', nodeRoute(configId, '/spools'));
    return Array.isArray(answer.spools) ? (answer.spools as SpoolSummary[]) : [];
  },
  signInStart: (configId: string) => request('POST', nodeRoute(configId, '/signin/start')),
  signInFinish: (configId: string, code: string) => request('POST', nodeRoute(configId, '/signin/finish'), { code }),
  signOut: (configId: string) => request('POST', nodeRoute(configId, '/signout')),
  newKey: (configId: string) => request('POST', nodeRoute(configId, '/newkey')),
  topics: async (configId: string): Promise<string[]> => {
    const answer = await request('GET', nodeRoute(configId, '/topics'));
    return Array.isArray(answer.topics) ? answer.topics.map(String) : [];
  },
  registerTopic: (configId: string, topic: string) => request('POST', nodeRoute(configId, '/topics'), { topic }) as Promise<TopicAnswer>,
  unregisterTopic: (configId: string, topic: string) => request('DELETE', nodeRoute(configId, `/topics/${encodeURIComponent(topic)}`)) as Promise<TopicAnswer>,
  live: () => request('GET', 'live') as Promise<LiveSnapshot & Answer>,
  fabricPreset: () => request('GET', 'fabric-preset') as Promise<FabricPreset>,
};
