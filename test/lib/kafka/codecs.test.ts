import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as sinon from 'sinon';
import type { FabricKafkaAdmin } from '../../../fabric/kafka-admin-api';
import { ConnectionManager } from '../../../lib/kafka/connection-manager';
import { lz4Codec, snappyCodec, type CompressionName } from '../../../lib/kafka/codecs';
import { adminSettings, consumeFromStart, fabricAdmin, kafkaTestEnv, removeAll, uniqueName } from '../kafka-test-env';

const env = kafkaTestEnv();

function kcatArgs(): string[] {
  return [
    '-b', env.brokers.join(','),
    '-X', 'security.protocol=SASL_PLAINTEXT',
    '-X', 'sasl.mechanisms=SCRAM-SHA-512',
    '-X', `sasl.username=${env.admin.username}`,
    '-X', `sasl.password=${env.admin.password}`,
  ];
}

/** Runs kcat (Debian package `kcat`, librdkafka inside) with stdin; resolves with stdout. */
function kcat(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', [...kcatArgs(), ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** Compressible values: repeated JSON, plus one large enough to span several LZ4 blocks. */
function values(count: number): string[] {
  const out = Array.from({ length: count }, (_, i) => JSON.stringify({ seq: i, sensor: 'thermo-1', unit: 'C', reading: 20 + (i % 10) / 10 }));
  out.push(JSON.stringify({ big: 'x'.repeat(50_000) + 'y'.repeat(50_000), tail: Array.from({ length: 2000 }, (_, i) => i) }));
  return out;
}

describe('lib/kafka-codecs with the real broker', function () {
  this.timeout(120_000);
  let admin: FabricKafkaAdmin;
  let manager: ConnectionManager;
  const topics: string[] = [];

  async function newTopic(label: string): Promise<string> {
    const topic = uniqueName(label);
    await admin.createTopic(topic, 1);
    topics.push(topic);
    return topic;
  }

  before(async () => {
    admin = await fabricAdmin(env);
    manager = new ConnectionManager(adminSettings(env, { clientId: 'h3b-codecs' }));
  });

  after(async () => {
    await manager?.close();
    await removeAll(admin, topics, []);
  });

  afterEach(() => sinon.restore());

  for (const compression of ['none', 'gzip', 'snappy', 'lz4'] as CompressionName[]) {
    it(`${compression}: our producer → broker (which validates the batch) → our consumer`, async () => {
      const topic = await newTopic(`codec-${compression}`);
      const producer = manager.acquireProducer(`codec-${compression}`);
      const sent = values(200);
      const compress = compression === 'lz4' ? sinon.spy(lz4Codec, 'compress') : compression === 'snappy' ? sinon.spy(snappyCodec, 'compress') : undefined;
      const decompress = compression === 'lz4' ? sinon.spy(lz4Codec, 'decompress') : compression === 'snappy' ? sinon.spy(snappyCodec, 'decompress') : undefined;
      const results = await Promise.all(
        sent.map((v, i) => producer.send({ topic, value: Buffer.from(v), key: Buffer.from(`k${i}`), headers: { codec: compression } }, { acks: -1, compression })),
      );
      assert.deepEqual(results.map((r) => Number(r.offset)), sent.map((_, i) => i));
      const got = await consumeFromStart(manager, [topic], sent.length);
      assert.deepEqual(got.map((m) => m.value?.toString()), sent);
      assert.deepEqual(got.map((m) => m.key?.toString()), sent.map((_, i) => `k${i}`));
      assert.equal(String(got[0].headers.codec), compression);
      if (compress && decompress) {
        assert.ok(compress.called, `the ${compression} codec compressed our batches`);
        assert.ok(decompress.called, `the ${compression} codec decompressed what we fetched`);
      }
      await manager.releaseProducer(`codec-${compression}`);
    });
  }

  describe('interop with kcat (librdkafka)', () => {
    before(function () {
      try {
        execFileSync('kcat', ['-V'], { stdio: 'ignore' });
      } catch {
        throw new Error('the interop tests need kcat: apt-get install -y kcat');
      }
    });

    for (const codec of ['gzip', 'snappy', 'lz4']) {
      it(`reads a ${codec} batch produced by kcat -z ${codec}`, async () => {
        const topic = await newTopic(`kcat-${codec}`);
        const sent = values(300);
        const lines = sent.map((v, i) => `key-${i}|${v}`).join('\n') + '\n';
        // linger so librdkafka puts the lines in one compressed batch
        await kcat(['-P', '-t', topic, '-z', codec, '-K', '|', '-X', 'linger.ms=200'], lines);
        const decompress = codec === 'lz4' ? sinon.spy(lz4Codec, 'decompress') : codec === 'snappy' ? sinon.spy(snappyCodec, 'decompress') : undefined;
        const got = await consumeFromStart(manager, [topic], sent.length);
        assert.deepEqual(got.map((m) => m.value?.toString()), sent);
        assert.deepEqual(got.map((m) => m.key?.toString()), sent.map((_, i) => `key-${i}`));
        if (decompress) assert.ok(decompress.called, `the batch really was ${codec}-compressed`);
      });
    }

    for (const codec of ['lz4', 'snappy', 'gzip'] as CompressionName[]) {
      it(`kcat -C reads a ${codec} batch we produced`, async () => {
        const topic = await newTopic(`ours-${codec}`);
        const producer = manager.acquireProducer(`ours-${codec}`);
        const sent = values(300);
        const compress = codec === 'lz4' ? sinon.spy(lz4Codec, 'compress') : codec === 'snappy' ? sinon.spy(snappyCodec, 'compress') : undefined;
        await Promise.all(sent.map((v, i) => producer.send({ topic, value: Buffer.from(v), key: Buffer.from(`ours-${i}`) }, { acks: -1, compression: codec })));
        if (compress) assert.ok(compress.called);
        await manager.releaseProducer(`ours-${codec}`);
        const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k|%s\n']);
        assert.deepEqual(out.split('\n').filter((l) => l.length > 0), sent.map((v, i) => `ours-${i}|${v}`));
      });
    }
  });
});
