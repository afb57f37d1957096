/** The session's transition table: what it allows, what the flow nodes read from a state, and the README's diagram. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkTransition, IllegalTransitionError, isWorthWaiting, SESSION_STATES, SESSION_TRANSITIONS, sessionDiagram } from '../../../../lib/session/machine';
import type { ErrorReason, SessionState } from '../../../../lib/session/types';
import { repoRoot } from '../../../../fabric/contract';

const README = path.join(repoRoot, 'README.md');

const error = (reason: ErrorReason, retrying: boolean): SessionState => ({ state: 'error', reason, message: reason, retrying });

describe('session state machine', function () {
  it('allows what the table lists and throws on anything else; nothing returns to starting', function () {
    for (const from of SESSION_STATES) {
      for (const to of SESSION_STATES) {
        if (SESSION_TRANSITIONS[from][to] === undefined) assert.throws(() => checkTransition(from, to), IllegalTransitionError, `${from} → ${to}`);
        else checkTransition(from, to);
      }
      assert.throws(() => checkTransition(from, 'starting'), /may not go from/);
    }
  });

  it('holds events while the session is on its way, retrying, or waiting for a new key; not when only the user can help', function () {
    assert.equal(isWorthWaiting({ state: 'starting' }), true);
    assert.equal(isWorthWaiting({ state: 'creating-key' }), true);
    assert.equal(isWorthWaiting({ state: 'waiting-key', waitingSeconds: 3, keyCreatedAt: new Date(0).toISOString() }), true);
    assert.equal(isWorthWaiting({ state: 'ready' }), true);
    assert.equal(isWorthWaiting({ state: 'signin-required' }), false);
    assert.equal(isWorthWaiting(error('broker-unreachable', true)), true);
    assert.equal(isWorthWaiting(error('service-unreachable', true)), true);
    assert.equal(isWorthWaiting(error('service-unreachable', false)), true, 'a failed "new key" is ended by the next one');
    assert.equal(isWorthWaiting(error('key-rejected', false)), true);
    for (const reason of ['timed-out', 'auth-failed', 'misconfigured', 'refresh-revoked'] as const) {
      assert.equal(isWorthWaiting(error(reason, false)), false, reason);
    }
  });

  it('the README shows the table as it is (Mermaid)', function () {
    const readme = fs.readFileSync(README, 'utf8');
    const block = /```mermaid\n(stateDiagram-v2[\s\S]*?)\n```/.exec(readme);
    assert.ok(block, 'README.md has no mermaid stateDiagram-v2 block');
    assert.equal(block[1], sessionDiagram(), 'the README diagram differs from SESSION_TRANSITIONS: paste sessionDiagram() into README.md');
    let arrows = 0;
    for (const from of SESSION_STATES) arrows += Object.keys(SESSION_TRANSITIONS[from]).length;
    assert.equal((block[1].match(/ --> /g) ?? []).length, arrows + 1, 'one arrow per transition, plus the start');
  });
});
