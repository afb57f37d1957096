/**
 * DiasporaSession with fakes for Globus Auth, the Diaspora service and the Kafka connections, on
 * sinon's fake clock: every transition of the table is driven (the last test checks), with the
 * backoff of the key wait, the service retry and the broker watch timed.
 */
import assert from 'node:assert/strict';
import * as sinon from 'sinon';
import { DiasporaServiceError } from '../../../../lib/diaspora-service/service';
import { AuthError } from '../../../../lib/globus/auth';
import { SESSION_STATES, SESSION_TRANSITIONS } from '../../../../lib/session/machine';
import type { StateOf } from '../../../../lib/session/types';
import { bundle, driven, harness, HOUR_MS, key, signedIn, type Harness } from './fakes';

describe('DiasporaSession (fakes, fake clock)', function () {
  let clock: sinon.SinonFakeTimers;
  let open: Harness[] = [];

  const make = (...args: Parameters<typeof harness>): Harness => {
    const h = harness(...args);
    open.push(h);
    return h;
  };
  const errorState = (h: Harness): StateOf<'error'> => {
    const state = h.session.state;
    assert.equal(state.state, 'error', `expected an error, the session is ${state.state}`);
    return state as StateOf<'error'>;
  };
  /** Signs in through the fake Globus Auth (the session restarts by itself). */
  const signIn = async (h: Harness): Promise<void> => {
    await h.session.startSignIn();
    await h.session.finishSignIn('the-code');
    await clock.tickAsync(0);
  };

  beforeEach(function () {
    clock = sinon.useFakeTimers({ now: Date.parse('2026-06-01T00:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });

  afterEach(async function () {
    for (const h of open) await h.session.close();
    open = [];
    assert.equal(clock.countTimers(), 0, 'a timer outlived the closed session');
    clock.restore();
  });

  it('user mode without a sign-in asks for one; signing in creates a key, which works; signing out forgets both', async function () {
    const h = make();
    void h.session.start();
    await clock.tickAsync(0);
    assert.deepEqual(h.names(), ['signin-required']);
    await signIn(h);
    assert.deepEqual(h.names(), ['signin-required', 'creating-key', 'ready']);
    assert.equal(h.session.state.sub, 'user-1');
    assert.equal(h.store.secrets.secretKey, 'secret-1');
    assert.ok(h.session.connections, 'the connections exist once the key does');
    await h.session.signOut();
    await h.session.signOut();
    assert.deepEqual(h.names().slice(-2), ['signin-required', 'signin-required']);
    assert.equal(h.store.secrets.tokens, undefined);
    assert.equal(h.store.secrets.secretKey, undefined);
    assert.ok(h.connections[0].closed);
    assert.ok(h.auth.calls.includes('revoke'));
  });

  it('a new key the broker refuses at first: waiting-key counts seconds, probes back off ×1.5 up to 5 s, then ready', async function () {
    const h = make({ secrets: signedIn(0, false), probes: ['auth', 'auth', 'auth', 'auth', 'auth', 'auth', 'auth', 'ok'] });
    const t0 = Date.now();
    void h.session.start();
    await clock.tickAsync(20_000);
    const offsets = h.connections[0].probes.map((at) => at - t0);
    // 500, 750, 1125, 1687.5, 2531.25, 3796.875 (timers keep whole milliseconds), then capped at 5000 ms.
    assert.deepEqual(offsets, [0, 500, 1250, 2375, 4062, 6593, 10389, 15389]);
    const names = h.names();
    assert.equal(names[0], 'creating-key');
    assert.equal(names.at(-1), 'ready');
    const waits = h.states.filter((s): s is StateOf<'waiting-key'> => s.state === 'waiting-key').map((s) => s.waitingSeconds);
    assert.equal(waits[0], 0);
    assert.ok(waits.includes(15), `one tick a second while waiting: ${waits.join(',')}`);
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1], 'the seconds only grow');
  });

  it('a new key that never works ends in timed-out after the ready timeout, not retrying', async function () {
    const h = make({ settings: { readyTimeoutMs: 3_000 }, secrets: signedIn(0, false), probes: ['auth'] });
    void h.session.start();
    await clock.tickAsync(2_900);
    assert.equal(h.session.state.state, 'waiting-key');
    await clock.tickAsync(200);
    const state = errorState(h);
    assert.equal(state.reason, 'timed-out');
    assert.equal(state.retrying, false);
    assert.match(state.message, /did not become usable within 3 s/);
    const probes = h.connections[0].probes.length;
    await clock.tickAsync(60_000);
    assert.equal(h.connections[0].probes.length, probes, 'no probe after giving up');
  });

  it('an unreachable service is retried after 5 s, then 10 s (doubling), retrying all the while', async function () {
    const down = (): Promise<never> => Promise.reject(new DiasporaServiceError('unreachable', 'connect ECONNREFUSED'));
    const h = make({ secrets: signedIn(0, false) });
    h.service.keys = [down, down];
    void h.session.start();
    await clock.tickAsync(0);
    assert.deepEqual(h.names(), ['creating-key', 'error']);
    assert.equal(errorState(h).reason, 'service-unreachable');
    assert.equal(errorState(h).retrying, true);
    await clock.tickAsync(4_999);
    assert.equal(h.service.calls.length, 1);
    await clock.tickAsync(1);
    assert.equal(h.service.calls.length, 2, 'asked again after 5 s');
    await clock.tickAsync(9_999);
    assert.equal(h.service.calls.length, 2);
    await clock.tickAsync(1);
    assert.equal(h.service.calls.length, 3, 'then after 10 s');
    assert.deepEqual(h.names(), ['creating-key', 'error', 'creating-key', 'error', 'creating-key', 'ready']);
  });

  it('client credentials with Globus Auth unreachable: error → error while retrying, then a key', async function () {
    const h = make({ settings: { authMode: 'client' }, secrets: { clientSecret: 'shh' } });
    let attempts = 0;
    h.auth.clientCredentialsAnswer = () => (++attempts <= 2 ? Promise.reject(new AuthError('unreachable', 'auth down')) : Promise.resolve(bundle('client-1')));
    void h.session.start();
    await clock.tickAsync(0);
    await clock.tickAsync(5_000);
    await clock.tickAsync(10_000);
    assert.deepEqual(h.names(), ['error', 'error', 'creating-key', 'ready']);
    assert.equal(h.session.state.sub, 'user-1', 'the identity userinfo names');
  });

  it('a stored key that is young gets the full wait (starting → waiting-key → ready)', async function () {
    const h = make({ secrets: signedIn(1_000), probes: ['auth', 'ok'] });
    void h.session.start();
    await clock.tickAsync(1_000);
    assert.deepEqual(h.names(), ['waiting-key', 'ready']);
    assert.equal(h.connections[0].settings[0].credentials?.mechanism, 'scram-sha-512');
  });

  it('a stored key whose broker is down: broker-unreachable every 5 s, retrying, then the key is checked and works', async function () {
    const h = make({ secrets: signedIn(1_000), probes: ['down', 'down', 'auth', 'ok'] });
    const t0 = Date.now();
    void h.session.start();
    await clock.tickAsync(0);
    assert.equal(errorState(h).reason, 'broker-unreachable');
    assert.equal(errorState(h).retrying, true);
    await clock.tickAsync(11_000);
    assert.deepEqual(
      h.connections[0].probes.map((at) => at - t0),
      [0, 5_000, 10_000, 10_500],
    );
    assert.deepEqual(h.names(), ['error', 'error', 'waiting-key', 'ready']);
  });

  it('while ready, the watch probes every 10 s: an outage turns into broker-unreachable, probed every 5 s, and clears', async function () {
    const h = make({ secrets: signedIn(HOUR_MS), probes: ['ok'] });
    void h.session.start();
    await clock.tickAsync(0);
    assert.deepEqual(h.names(), ['ready']);
    const c = h.connections[0];
    const t0 = Date.now();
    c.outcomes = ['down', 'down', 'ok'];
    await clock.tickAsync(20_000);
    assert.deepEqual(
      c.probes.slice(1).map((at) => at - t0),
      [10_000, 15_000, 20_000],
    );
    assert.deepEqual(h.names(), ['ready', 'error', 'ready']);
    assert.equal(h.states[1].state === 'error' && h.states[1].retrying, true);
    // A connection's network failure cuts the watch's pause short.
    c.outcomes = ['down', 'ok'];
    c.status({ state: 'error', kind: 'unreachable' });
    await clock.tickAsync(0);
    assert.equal(errorState(h).reason, 'broker-unreachable');
    // A connection that connects again ends the outage without waiting for the watch.
    c.status({ state: 'connected' });
    assert.equal(h.session.state.state, 'ready');
  });

  it('new key while ready rotates it; signing in again while ready restarts into ready', async function () {
    const h = make({ secrets: signedIn(HOUR_MS) });
    void h.session.start();
    await clock.tickAsync(0);
    await h.session.newKey();
    assert.deepEqual(h.names(), ['ready', 'creating-key', 'ready']);
    assert.deepEqual(h.service.calls, ['rotateKey']);
    assert.equal(h.connections.length, 1, 'the same connections, with the new key');
    const credentials = h.connections[0].settings.at(-1)?.credentials;
    assert.equal(credentials?.mechanism === 'scram-sha-512' ? credentials.password : undefined, 'secret-1');
    await signIn(h);
    assert.deepEqual(h.names().slice(-1), ['ready']);
    assert.equal(h.names().length, 4);
  });

  it('new key or sign-out while a key is being created or awaited', async function () {
    const h = make({ secrets: signedIn(0, false), probes: ['auth'] });
    let release: (() => void) | undefined;
    h.service.keys = [() => new Promise((resolve) => (release = () => resolve(key('slow')))), () => Promise.resolve(key('second'))];
    void h.session.start();
    await clock.tickAsync(0);
    void h.session.newKey();
    await clock.tickAsync(0);
    release?.();
    await clock.tickAsync(0);
    assert.deepEqual(h.names().slice(0, 3), ['creating-key', 'creating-key', 'waiting-key']);
    assert.equal(h.store.secrets.secretKey, 'second', 'the key of the earlier request is not adopted');
    void h.session.newKey();
    await clock.tickAsync(0);
    assert.equal(h.names().at(-1), 'creating-key');
    await clock.tickAsync(1_000);
    assert.equal(h.names().at(-1), 'waiting-key');
    await h.session.signOut();
    assert.equal(h.session.state.state, 'signin-required');
    const n = h.states.length;
    await clock.tickAsync(10_000);
    assert.equal(h.states.length, n, 'the wait stopped: no more ticks after the sign-out');

    const h2 = make({ secrets: signedIn(0, false) });
    h2.service.keys = [() => new Promise(() => undefined)];
    void h2.session.start();
    await clock.tickAsync(0);
    await h2.session.signOut();
    assert.deepEqual(h2.names(), ['creating-key', 'signin-required']);
  });

  it('v1: a key the broker refuses while ready is key-rejected (not retrying); signing out from there', async function () {
    const h = make({ secrets: signedIn(HOUR_MS) });
    void h.session.start();
    await clock.tickAsync(0);
    h.connections[0].status({ state: 'error', kind: 'auth-failed' });
    await clock.tickAsync(0);
    const state = errorState(h);
    assert.equal(state.reason, 'key-rejected');
    assert.equal(state.retrying, false);
    assert.ok(state.keyCreatedAt);
    await h.session.signOut();
    assert.deepEqual(h.names(), ['ready', 'error', 'signin-required']);
  });

  it('v3: a key the broker refuses while ready is replaced by the service current key, awaited like a new one', async function () {
    const h = make({ settings: { api: 'v3' }, secrets: signedIn(HOUR_MS) });
    void h.session.start();
    await clock.tickAsync(0);
    const c = h.connections[0];
    c.outcomes = ['auth', 'ok'];
    c.status({ state: 'error', kind: 'auth-failed' });
    await clock.tickAsync(1_000);
    assert.deepEqual(h.names(), ['ready', 'waiting-key', 'ready']);
    assert.deepEqual(h.service.calls, ['createKey']);
    assert.equal(h.store.secrets.secretKey, 'secret-1');
  });

  it('a stored key without a sign-in: signing in (same identity) uses it: ready, waiting-key or broker-unreachable', async function () {
    const keyOnly = (ageMs: number): ReturnType<typeof signedIn> => {
      const { tokens: _tokens, ...rest } = signedIn(ageMs);
      return rest;
    };
    const cases = [
      { age: HOUR_MS, probes: ['ok'] as const, then: 'ready' },
      { age: 1_000, probes: ['auth', 'ok'] as const, then: 'waiting-key' },
      { age: HOUR_MS, probes: ['down', 'ok'] as const, then: 'error' },
    ];
    for (const { age, probes, then } of cases) {
      const h = make({ secrets: keyOnly(age), probes: [...probes] });
      void h.session.start();
      await clock.tickAsync(0);
      await signIn(h);
      assert.deepEqual(h.names().slice(0, 2), ['signin-required', then]);
      assert.deepEqual(h.service.calls, [], 'the stored key was used');
    }
  });

  it('tokens are refreshed a minute before they expire; a revoked sign-in turns the session red for good', async function () {
    const h = make({ secrets: { ...signedIn(HOUR_MS), tokens: JSON.stringify(bundle('user-1', 10 * 60_000)) } });
    void h.session.start();
    await clock.tickAsync(0);
    h.auth.fresh = () => Promise.reject(new AuthError('revoked', 'the refresh token was revoked: sign in again'));
    const before = h.auth.calls.filter((c) => c === 'ensureFresh').length;
    await clock.tickAsync(9 * 60_000 - 1);
    assert.equal(h.auth.calls.filter((c) => c === 'ensureFresh').length, before);
    await clock.tickAsync(1);
    const state = errorState(h);
    assert.equal(state.reason, 'refresh-revoked');
    assert.equal(state.retrying, false);
    await clock.tickAsync(HOUR_MS);
    assert.equal(h.session.state.state, 'error', 'nothing moves it but a new sign-in');
  });

  it('a refreshed token is stored; a refresh that fails otherwise is tried again after 30 s', async function () {
    const h = make({ secrets: { ...signedIn(HOUR_MS), tokens: JSON.stringify(bundle('user-1', 10 * 60_000)) } });
    void h.session.start();
    await clock.tickAsync(0);
    let asked = 0;
    h.auth.fresh = (b) => (++asked === 1 ? Promise.reject(new AuthError('protocol', 'server error')) : Promise.resolve({ ...b, tokens: bundle('user-1').tokens }));
    await clock.tickAsync(9 * 60_000);
    assert.equal(asked, 1);
    assert.ok(h.logs.some((l) => /trying again in 30 s/.test(l)));
    await clock.tickAsync(30_000);
    assert.equal(asked, 2);
    const stored = JSON.parse(h.store.secrets.tokens ?? '{}') as { sub?: string; tokens: Record<string, { expiresAt: number }> };
    assert.equal(stored.sub, 'user-1', 'the identity is kept with the refreshed tokens');
    assert.ok(Object.values(stored.tokens)[0].expiresAt > Date.now() + 40 * HOUR_MS);
    assert.equal(h.session.state.state, 'ready');
  });

  it('whenReady resolves on ready, rejects with the reason of an error, and on close', async function () {
    const h = make({ settings: { readyTimeoutMs: 1_000 }, secrets: signedIn(0, false), probes: ['auth'] });
    void h.session.start();
    await assert.rejects(Promise.all([h.session.whenReady(5_000), clock.tickAsync(2_000)]), { name: 'SessionError', reason: 'timed-out' });
    const ok = make({ secrets: signedIn(HOUR_MS) });
    const ready = ok.session.whenReady(5_000);
    void ok.session.start();
    await clock.tickAsync(0);
    await ready;
    const idle = make();
    const waiting = idle.session.whenReady(5_000);
    await idle.session.close();
    await assert.rejects(waiting, /stopped/);
  });

  it('a misconfiguration is an error the session does not retry; other settings forget the stored secrets', async function () {
    const h = make({ secrets: { ...signedIn(HOUR_MS), tokensFor: 'another auth server' } });
    assert.equal(h.store.secrets.tokens, undefined);
    assert.equal(h.store.secrets.secretKey, undefined);
    assert.ok(h.logs.some((l) => /belonged to other settings/.test(l)));
    h.session.reportMisconfiguration('serviceUrl is not a URL');
    assert.deepEqual(h.names(), ['error']);
    assert.equal(errorState(h).retrying, false);
  });

  it('drove every transition of the table', function () {
    const missing: string[] = [];
    for (const from of SESSION_STATES) for (const to of Object.keys(SESSION_TRANSITIONS[from])) if (!driven.has(`${from} → ${to}`)) missing.push(`${from} → ${to}`);
    assert.deepEqual(missing, []);
  });
});
