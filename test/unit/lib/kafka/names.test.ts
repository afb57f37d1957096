import assert from 'node:assert/strict';
import { isBrokerAddress, isTopicName, splitList } from '../../../../lib/kafka/names';

describe('unit: Kafka names', function () {
  it('takes topic names of 1 to 249 letters, digits, ".", "_" and "-", except "." and ".."', function () {
    for (const name of ['a', 'ns-0123456789ab.readings', 'A_b-c.d', 'x'.repeat(249)]) assert.ok(isTopicName(name), name);
    for (const name of ['', '.', '..', 'has space', 'a/b', 'x'.repeat(250), 'é', 7, undefined]) assert.ok(!isTopicName(name), String(name));
  });

  it('takes host:port and [IPv6]:port broker addresses', function () {
    for (const address of ['127.0.0.1:19092', 'b-1.example.com:9198', '[::1]:9092', 'kafka_1:9092']) assert.ok(isBrokerAddress(address), address);
    for (const address of ['localhost', 'host:port', ':9092', 'a:123456', '[::1]', 'a b:1', 9092]) assert.ok(!isBrokerAddress(address), String(address));
  });

  it('splits comma-separated lists, trimming and dropping empty items', function () {
    assert.deepEqual(splitList(' a, b,,c ,'), ['a', 'b', 'c']);
    assert.deepEqual(splitList(''), []);
  });
});
