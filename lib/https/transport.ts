/**
 * The session's path to `ready` when events travel over HTTPS: no Diaspora key and no broker, only
 * a valid Globus token and a service that answers. Readiness makes sure the identity's user and
 * namespace exist (POST /api/v3/user, idempotent), then the service is watched while in use so an
 * outage shows as `service-unreachable` on every node and clears by itself.
 */
import { callService, normaliseServiceUrl } from '../diaspora-service/http';
import { namespaceForSubject } from '../diaspora-service/common';
import { RestConnections } from './connections';
import { RestError } from './http';
import { Pause } from '../session/sleep';
import type { SessionLogger, SessionSettings, SessionState } from '../session/types';

const REQUEST_TIMEOUT_MS = 30_000;
const WATCH_INTERVAL_MS = 10_000;
const OUTAGE_RETRY_MS = 5_000;
const WATCH_TIMEOUT_MS = 5_000;

/** What the transport needs of its session. */
export interface HttpsSessionHost {
  readonly settings: SessionSettings;
  readonly log: SessionLogger;
  subject(): string | undefined;
  accessToken(): Promise<string>;
  state(): SessionState;
  setState(state: SessionState): void;
  /** False once the generation it started for is over (new sign-in, sign-out, close). */
  isCurrent(generation: number): boolean;
  /** A wait that the session's close cuts short. */
  sleep(ms: number): Promise<void>;
}

export class HttpsTransport {
  private connections: RestConnections | undefined;
  private connectionsFor: string | undefined;
  private watching: number | undefined;
  private readonly pause: Pause;

  constructor(private readonly host: HttpsSessionHost) {
    this.pause = new Pause((ms) => host.sleep(ms));
  }

  get current(): RestConnections | undefined {
    return this.connections;
  }

  /** Checks the sign-in with the service and becomes ready; throws what the session turns into `error`. */
  async becomeReady(generation: number): Promise<void> {
    const subject = this.host.subject();
    if (!subject) return;
    const baseUrl = normaliseServiceUrl(this.host.settings.serviceUrl);
    const ctx = { baseUrl, subject, accessToken: () => this.host.accessToken(), timeoutMs: REQUEST_TIMEOUT_MS };
    await callService(ctx, { method: 'POST', path: '/api/v3/user', what: 'create the user and namespace' });
    if (!this.host.isCurrent(generation)) return;
    if (this.connectionsFor !== subject) {
      const previous = this.connections;
      this.connections = new RestConnections({
        ctx,
        namespace: namespaceForSubject(subject),
        log: (m) => this.host.log.warn(`diaspora: ${m}`),
        onUnreachable: () => this.pause.wake(),
      });
      this.connectionsFor = subject;
      await previous?.close();
    }
    this.host.setState({ state: 'ready' });
    void this.watch(generation);
  }

  async close(timeoutMs?: number): Promise<void> {
    this.pause.wake();
    const connections = this.connections;
    this.connections = undefined;
    this.connectionsFor = undefined;
    await connections?.close(timeoutMs);
  }

  private async watch(generation: number): Promise<void> {
    if (this.watching === generation) return;
    this.watching = generation;
    try {
      while (this.host.isCurrent(generation)) {
        const outage = this.inOutage();
        await this.pause.wait(outage ? OUTAGE_RETRY_MS : WATCH_INTERVAL_MS);
        const connections = this.connections;
        if (!this.host.isCurrent(generation) || !connections) return;
        if (this.host.state().state !== 'ready' && !this.inOutage()) return;
        try {
          await connections.probe(WATCH_TIMEOUT_MS);
          if (this.host.isCurrent(generation) && this.inOutage()) this.host.setState({ state: 'ready' });
        } catch (err) {
          if (!this.host.isCurrent(generation)) return;
          if (err instanceof RestError && err.status === 401) {
            this.host.setState({ state: 'error', reason: 'auth-failed', message: err.message, retrying: false });
            return;
          }
          if (this.host.state().state === 'ready') {
            this.host.setState({ state: 'error', reason: 'service-unreachable', message: err instanceof Error ? err.message : String(err), retrying: true });
          }
        }
      }
    } finally {
      if (this.watching === generation) this.watching = undefined;
    }
  }

  /** The service is down while in use: the watch itself is retrying, and turns it back to `ready`. */
  private inOutage(): boolean {
    const state = this.host.state();
    return state.state === 'error' && state.retrying;
  }
}
