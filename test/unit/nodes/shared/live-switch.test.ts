import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import { liveStatusEnabled } from '../../../../nodes/shared/live-status';

/** A runtime API with the given settings.js entries and a log that keeps its warnings. */
function runtime(settings: Record<string, unknown>): { RED: Pick<NodeAPI, 'settings' | 'log'>; warnings: string[] } {
  const warnings: string[] = [];
  const log = { warn: (message: string) => warnings.push(message) } as unknown as NodeAPI['log'];
  return { RED: { settings: settings as unknown as NodeAPI['settings'], log }, warnings };
}

describe('unit: the live figures switch (settings.js diaspora.liveStatus)', function () {
  it('is on without an entry, and with liveStatus true or left out', function () {
    for (const settings of [{}, { diaspora: {} }, { diaspora: { liveStatus: true } }, { diaspora: null }]) {
      const { RED, warnings } = runtime(settings);
      assert.equal(liveStatusEnabled(RED), true, JSON.stringify(settings));
      assert.deepEqual(warnings, []);
    }
  });

  it('is off with liveStatus false', function () {
    const { RED, warnings } = runtime({ diaspora: { liveStatus: false } });
    assert.equal(liveStatusEnabled(RED), false);
    assert.deepEqual(warnings, []);
  });

  it('keeps the figures on for any other value and says, once, what settings.js must hold', function () {
    const first = runtime({ diaspora: { liveStatus: 'off' } });
    assert.equal(liveStatusEnabled(first.RED), true);
    assert.equal(first.warnings.length, 1);
    assert.match(first.warnings[0], /settings\.js needs "diaspora: \{ liveStatus: false \}" \(or true\) to switch the live figures, not liveStatus: "off"; they stay on/);
    const again = runtime({ diaspora: false });
    assert.equal(liveStatusEnabled(again.RED), true);
    assert.deepEqual(again.warnings, [], 'warned a second time');
  });

  it('is on where the runtime has no settings loaded yet', function () {
    const settings = Object.defineProperty({}, 'diaspora', {
      get() {
        throw new Error('settings not available');
      },
    }) as Record<string, unknown>;
    assert.equal(liveStatusEnabled(runtime(settings).RED), true);
  });
});
