import assert from 'node:assert/strict';
import { readOutSettings } from '../../../../nodes/diaspora-out/settings';

describe('unit: diaspora-out settings', function () {
  it('reads a node without properties with the defaults', function () {
    assert.deepEqual(readOutSettings({ fabric: 'c' }), { topic: '', key: '', mode: 'ack', acks: -1, compression: 'none', whenNotReady: 'queue', queueSize: 1000, spoolSizeMB: 100 });
  });

  it('maps acks to Kafka\'s numbers and takes empty text as the default', function () {
    assert.equal(readOutSettings({ fabric: 'c', acks: 'leader' }).acks, 1);
    assert.equal(readOutSettings({ fabric: 'c', acks: 'none' }).acks, 0);
    assert.equal(readOutSettings({ fabric: 'c', mode: ' ', queueSize: '' }).mode, 'ack');
    assert.equal(readOutSettings({ fabric: 'c', queueSize: '' }).queueSize, 1000);
    assert.equal(readOutSettings({ fabric: 'c', queueSize: '0', topic: ' t1 ' }).queueSize, 0);
    assert.equal(readOutSettings({ fabric: 'c', topic: ' t1 ' }).topic, 't1');
  });

  it('refuses values outside the schema, naming the property', function () {
    assert.throws(() => readOutSettings({ fabric: 'c', mode: 'sync' }), /mode must be one of ack, fire, not "sync"/);
    assert.throws(() => readOutSettings({ fabric: 'c', compression: 'zstd' }), /compression must be one of none, gzip, snappy, lz4/);
    assert.throws(() => readOutSettings({ fabric: 'c', whenNotReady: 'drop' }), /whenNotReady must be one of queue, fail, spool/);
    for (const size of [-1, 1.5, 'many']) {
      assert.throws(() => readOutSettings({ fabric: 'c', queueSize: size }), /queueSize must be a whole number of messages, 0 or more/, String(size));
    }
    for (const size of [0, -2, 'lots']) {
      assert.throws(() => readOutSettings({ fabric: 'c', spoolSizeMB: size }), /spoolSizeMB must be a number of megabytes above 0/, String(size));
    }
    assert.equal(readOutSettings({ fabric: 'c', spoolSizeMB: '0.5' }).spoolSizeMB, 0.5);
  });
});
