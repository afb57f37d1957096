/**
 * The broker the lib/ Kafka tests run against: the local fabric of the mocha global fixture when
 * its description file exists, else the development broker (127.0.0.1:29092) for a quick
 * `mocha --no-config` run. Topics and users made here start with `h3b-` and are removed after.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { fabricFile } from '../../fabric/contract';
import { createFabricKafkaAdmin } from '../../fabric/kafka-admin';
import type { FabricKafkaAdmin } from '../../fabric/kafka-admin-api';
import type { ConnectionManager } from '../../lib/kafka/connection-manager';
import type { ConnectionSettings, ConsumedMessage, KafkaLogger } from '../../lib/session/connection-types';
import { loadFabric } from '../fixtures/fabric';

export interface KafkaTestEnv {
  brokers: string[];
  admin: { username: string; password: string };
}

export function kafkaTestEnv(): KafkaTestEnv {
  if (fs.existsSync(fabricFile())) {
    const fabric = loadFabric();
    return { brokers: fabric.brokers, admin: fabric.admin };
  }
  return { brokers: ['127.0.0.1:29092'], admin: { username: 'admin', password: 'admin-secret' } };
}

export function uniqueName(label: string): string {
  return `h3b-${label}-${crypto.randomBytes(4).toString('hex')}`;
}

/** Collects kafkajs log lines, so a failing test can show them and a test can assert on them. */
export class MemoryLogger implements KafkaLogger {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push(`debug ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

export function adminSettings(env: KafkaTestEnv, overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    brokers: env.brokers,
    credentials: { mechanism: 'scram-sha-512', username: env.admin.username, password: env.admin.password },
    tls: false,
    clientId: 'h3b-test',
    ...overrides,
  };
}

export function userSettings(
  env: KafkaTestEnv,
  username: string,
  password: string,
  overrides: Partial<ConnectionSettings> = {},
): ConnectionSettings {
  return adminSettings(env, { credentials: { mechanism: 'scram-sha-512', username, password }, ...overrides });
}

export function fabricAdmin(env: KafkaTestEnv): Promise<FabricKafkaAdmin> {
  return createFabricKafkaAdmin({ brokers: env.brokers, username: env.admin.username, password: env.admin.password });
}

/** Polls `check` every 50 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Consumes `count` messages from the beginning of `topics` with a fresh group, then stops. */
export async function consumeFromStart(
  manager: ConnectionManager,
  topics: string[],
  count: number,
  timeoutMs = 30_000,
): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const errors: string[] = [];
  const consumer = manager.createConsumer(
    uniqueName('reader'),
    { topics, groupId: uniqueName('group'), fromBeginning: true, autoCommit: true },
    async (m) => {
      got.push(m);
    },
    { onError: (e) => errors.push(`${e.kind}: ${e.message}`) },
  );
  try {
    await waitFor(`${count} messages from ${topics.join(', ')} (got ${got.length}; errors: ${errors.join(' | ')})`, () => got.length >= count, timeoutMs);
  } finally {
    await consumer.stop();
  }
  return got;
}

/** Deletes what a test file created, each removal on its own so one failure does not leave the rest. */
export async function removeAll(admin: FabricKafkaAdmin | undefined, topics: string[], users: string[]): Promise<void> {
  if (!admin) return;
  const problems: string[] = [];
  for (const topic of topics) await admin.deleteTopic(topic).catch((e: Error) => problems.push(`topic ${topic}: ${e.message}`));
  for (const user of users) await admin.deleteScramUser(user).catch((e: Error) => problems.push(`user ${user}: ${e.message}`));
  await admin.close();
  if (problems.length > 0) throw new Error(`cleanup failed for ${problems.join('; ')}`);
}
