import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot, type FabricDescription } from '../../fabric/contract';
import { restartFabricKafka, stopFabric } from '../../fabric/fabric';
import { createFabricKafkaAdmin } from '../../fabric/kafka-admin';
import { killKafkaBroker } from '../../fabric/kafka-broker';
import { processExited } from '../../fabric/processes';
import { loadFabric } from '../fixtures/fabric';

/** Clear of the suite's fabric (base), the fault suite's (base + 100) and the benchmark's. */
const SCRATCH_PORT_BASE = Number(process.env.DIASPORA_FABRIC_PORT_BASE ?? 19090) + 200;

const execFileAsync = promisify(execFile);
const cli = path.join(repoRoot, 'scripts', 'fabric.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Gone, or a zombie waiting for init to reap it. */

async function canLogIn(fabric: FabricDescription, username: string, password: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'cli-test',
    brokers: fabric.brokers,
    sasl: { mechanism: 'scram-sha-512', username, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect();
  }
}

async function canProduceOverTls(fabric: FabricDescription): Promise<void> {
  assert.ok(fabric.tls, 'fabric.json has no tls section');
  const kafka = new Kafka({
    clientId: 'cli-test',
    brokers: fabric.tls.brokers,
    ssl: { ca: [fs.readFileSync(fabric.tls.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', ...fabric.admin },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: '__connection_test', messages: [{ value: 'over TLS' }] });
  } finally {
    await producer.disconnect();
  }
}

describe('fabric CLI', function () {
  it('reports the running fabric and prints the path of fabric.json', async function () {
    const result = await runCli(['status']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^running .*fabric\.json\n$/);
  });

  it('start on a running fabric is a quick no-op that keeps the same processes', async function () {
    const before = loadFabric();
    const started = Date.now();
    const result = await runCli(['start']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /already running/);
    assert.ok(fs.existsSync(result.stdout.trim()), `start printed "${result.stdout}"`);
    assert.deepEqual(loadFabric().pids, before.pids);
    assert.ok(Date.now() - started < 10_000, 'start of a running fabric took more than 10 s');
  });

  it('rejects an unknown command and a bad key delay with clear messages', async function () {
    const unknown = await runCli(['launch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "launch"[\s\S]*usage: npm run fabric -- start\|stop\|status/);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fabric-bad-'));
    try {
      const bad = await runCli(['start'], { DIASPORA_FABRIC_DIR: scratch, DIASPORA_FABRIC_PORT_BASE: String(SCRATCH_PORT_BASE), DIASPORA_KEY_DELAY_MS: 'soon' });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /DIASPORA_KEY_DELAY_MS must be a whole number of milliseconds/);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe('a scratch fabric (own folder, port base = suite base + 200, TLS)', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fabric-cli-'));
    const env = { DIASPORA_FABRIC_DIR: dir, DIASPORA_FABRIC_PORT_BASE: String(SCRATCH_PORT_BASE), DIASPORA_FABRIC_TLS: '1' };

    after(async function () {
      await stopFabric({ dir });
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('starts, survives a broker crash and restart, and stops leaving no process behind', async function () {
      // A cold start with a fresh TLS keystore, a broker crash and a restart: well over the suite's 60 s on a loaded machine.
      this.timeout(180_000);
      const start = await runCli(['start'], env);
      assert.equal(start.code, 0, start.stderr);
      const file = start.stdout.trim();
      assert.equal(file, path.join(dir, 'fabric.json'));
      const fabric = JSON.parse(fs.readFileSync(file, 'utf8')) as FabricDescription;
      assert.deepEqual(fabric.brokers, [`127.0.0.1:${SCRATCH_PORT_BASE + 2}`]);
      assert.equal(fabric.serviceUrl, `http://127.0.0.1:${SCRATCH_PORT_BASE}`);
      assert.equal(fabric.authUrl, `http://127.0.0.1:${SCRATCH_PORT_BASE + 1}`);
      assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
      await canProduceOverTls(fabric);

      // Credentials must survive the crash: a kept user, and deleted users that stay refused. Several
      // deleted names, because Kafka 3.9 lost every credential on replay depending on name hashes.
      const kafkaAdmin = await createFabricKafkaAdmin({ brokers: fabric.brokers, ...fabric.admin });
      const deleted = ['dave', 'h1t-0a1b2c3d-user', 'zed', 'x', 'ns-user-7'];
      try {
        await kafkaAdmin.upsertScramUser('kept', 'kept-secret');
        for (const name of deleted) {
          await kafkaAdmin.upsertScramUser(name, 'gone-secret');
          await kafkaAdmin.deleteScramUser(name);
        }
      } finally {
        await kafkaAdmin.close();
      }

      await killKafkaBroker(dir);
      assert.ok(processExited(fabric.pids.kafka));
      const down = await runCli(['status'], env);
      assert.equal(down.code, 1);
      assert.match(down.stdout, /stopped \(kafka down/);
      const newPid = await restartFabricKafka(dir);
      assert.notEqual(newPid, fabric.pids.kafka);
      assert.equal((await runCli(['status'], env)).code, 0);
      assert.equal(await canLogIn(fabric, 'kept', 'kept-secret'), true, 'a kept SCRAM user was lost in the restart');
      for (const name of deleted) assert.equal(await canLogIn(fabric, name, 'gone-secret'), false, `deleted user ${name} came back`);

      const stop = await runCli(['stop'], env);
      assert.equal(stop.code, 0, stop.stderr);
      for (const pid of [newPid, fabric.pids.emulators]) assert.ok(processExited(pid), `process ${pid} still running`);
      assert.equal(fs.existsSync(file), false);
      const status = await runCli(['status'], env);
      assert.equal(status.code, 1);
      assert.equal(status.stdout, 'stopped\n');
    });
  });
});
