/**
 * `FabricKafkaAdmin` against the real broker: topics and ACLs through the kafkajs admin client,
 * SCRAM-SHA-512 credentials through @platformatic/kafka's AlterUserScramCredentials (API 51), which
 * kafkajs cannot send. Every change is confirmed on the broker before the promise resolves, because
 * the broker applies credentials and ACLs from its metadata log asynchronously.
 */
import * as crypto from 'node:crypto';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  ResourcePatternTypes,
  logLevel,
  type Admin,
  type AclEntry,
  type AclFilter,
} from 'kafkajs';
import {
  Connection,
  alterUserScramCredentialsV0,
  describeUserScramCredentialsV0,
} from '@platformatic/kafka';
import type { AclOperation, FabricKafkaAdmin, TopicGrant } from './kafka-admin-api';
import { pollUntil } from './poll';

export interface FabricKafkaAdminOptions {
  brokers: string[];
  username: string;
  password: string;
  /** Bound on waiting for a change to take effect on the broker (default 15 s). */
  propagationTimeoutMs?: number;
}

/** Kafka's ScramMechanism id for SCRAM-SHA-512 (1 is SCRAM-SHA-256). */
const SCRAM_SHA_512 = 2;
/** Same iteration count as Kafka's ConfigCommand default and the Python SDK era's MSK setup. */
const SCRAM_ITERATIONS = 8192;
/** Kafka error RESOURCE_NOT_FOUND: the user has no SCRAM credential. */
const RESOURCE_NOT_FOUND = 91;
/** Kafka error UNKNOWN_TOPIC_OR_PARTITION. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;

const operationCodes: Record<AclOperation, AclOperationTypes> = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  CREATE: AclOperationTypes.CREATE,
  ALL: AclOperationTypes.ALL,
};

interface BrokerAddress {
  host: string;
  port: number;
}

function parseBroker(broker: string): BrokerAddress {
  const match = /^(.+):(\d+)$/.exec(broker);
  if (!match) throw new Error(`Invalid broker address "${broker}": expected host:port`);
  return { host: match[1], port: Number(match[2]) };
}

function requireName(kind: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${kind} must be a non-empty string`);
}

/** RFC 5802 Hi(): the salted password Kafka stores, computed as the Java client does. */
function saltedPassword(password: string, salt: Buffer): Buffer {
  return crypto.pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 64, 'sha512');
}

/** Error codes and messages from the broker; never the password. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const nested = (err as Error & { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length > 0) {
    const first: unknown = nested[0];
    if (first && typeof first === 'object') {
      const detail = first as { message?: string; serverErrorMessage?: string };
      return detail.serverErrorMessage ?? detail.message ?? err.message;
    }
  }
  return err.message;
}

function aclEntries(grant: TopicGrant): AclEntry[] {
  requireName('Grant user', grant.user);
  requireName('Grant topic', grant.topic);
  if (!Array.isArray(grant.operations) || grant.operations.length === 0) {
    throw new Error(`Grant for ${grant.user} on ${grant.topic} lists no operations`);
  }
  return grant.operations.map((operation) => {
    const code = operationCodes[operation];
    if (code === undefined) throw new Error(`Unknown ACL operation "${operation}"`);
    return {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: grant.topic,
      resourcePatternType: grant.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: `User:${grant.user}`,
      host: '*',
      operation: code,
      permissionType: AclPermissionTypes.ALLOW,
    };
  });
}

function sameAcl(a: AclEntry, b: AclEntry): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.resourcePatternType === b.resourcePatternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}

class BrokerAdmin implements FabricKafkaAdmin {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private readonly broker: BrokerAddress;
  private readonly timeoutMs: number;

  constructor(private readonly opts: FabricKafkaAdminOptions) {
    if (!Array.isArray(opts.brokers) || opts.brokers.length === 0) {
      throw new Error('createFabricKafkaAdmin needs at least one broker address');
    }
    requireName('Admin username', opts.username);
    requireName('Admin password', opts.password);
    this.broker = parseBroker(opts.brokers[0]);
    this.timeoutMs = opts.propagationTimeoutMs ?? 15_000;
    this.kafka = new Kafka({
      clientId: 'diaspora-fabric-admin',
      brokers: opts.brokers,
      sasl: { mechanism: 'scram-sha-512', username: opts.username, password: opts.password },
      // Failures reach the caller as rejected promises; kafkajs's own log lines would only be noise.
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 200 },
    });
  }

  async connect(): Promise<void> {
    await this.kafkaAdmin();
  }

  private async kafkaAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        throw new Error(`Cannot connect to the Kafka broker ${this.opts.brokers.join(',')} as ${this.opts.username}: ${describeError(err)}`);
      }
      this.admin = admin;
    }
    return this.admin;
  }

  /** One short-lived connection per call: survives broker restarts without reconnect logic. */
  private async withConnection<T>(
    username: string,
    password: string,
    use: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    const connection = new Connection('diaspora-fabric-admin', {
      connectTimeout: 5_000,
      requestTimeout: 10_000,
      sasl: { mechanism: 'SCRAM-SHA-512', username, password },
    });
    try {
      await connection.connect(this.broker.host, this.broker.port);
      return await use(connection);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  private async describeScram(user: string): Promise<boolean> {
    return this.withConnection(this.opts.username, this.opts.password, async (connection) => {
      try {
        const response = await describeUserScramCredentialsV0.api.async(connection, [{ name: user }]);
        return response.results.some((r) =>
          r.user === user && r.credentialInfos.some((info) => info.mechanism === SCRAM_SHA_512),
        );
      } catch (err) {
        if (errorCodeOf(err) === RESOURCE_NOT_FOUND) return false;
        throw err;
      }
    });
  }

  private async canAuthenticate(user: string, password: string): Promise<boolean> {
    try {
      await this.withConnection(user, password, async () => undefined);
      return true;
    } catch {
      return false;
    }
  }

  private async setScramCredential(user: string, password: string): Promise<void> {
    const salt = crypto.randomBytes(32);
    await this.withConnection(this.opts.username, this.opts.password, (connection) =>
      alterUserScramCredentialsV0.api.async(connection, [], [
        { name: user, mechanism: SCRAM_SHA_512, iterations: SCRAM_ITERATIONS, salt, saltedPassword: saltedPassword(password, salt) },
      ]),
    );
  }

  async upsertScramUser(user: string, password: string): Promise<void> {
    requireName('SCRAM username', user);
    requireName('SCRAM password', password);
    try {
      await this.setScramCredential(user, password);
    } catch (err) {
      throw new Error(`Cannot set the SCRAM-SHA-512 credential of ${user}: ${describeError(err)}`);
    }
    // A describe would also match the previous credential of a rotated user; logging in is exact.
    await pollUntil(() => this.canAuthenticate(user, password), {
      what: `the SCRAM credential of ${user} to take effect on the broker`,
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * Kafka 3.9's ScramDelta.apply() drops a mechanism's whole credential map once a removal empties
   * it, even while the same replay is still filling it. On a restart the metadata log is replayed
   * as one delta from an empty image, so a single RemoveUserScramCredential record visited before
   * the admin's can wipe every SCRAM credential (the broker then refuses everyone). So a deletion
   * never writes that record: it replaces the credential with a random one nobody knows, which
   * has the same effect for clients (the old secret stops working).
   */
  async deleteScramUser(user: string): Promise<void> {
    requireName('SCRAM username', user);
    if (!(await this.describeScram(user))) return;
    const unguessable = crypto.randomBytes(32).toString('base64url');
    try {
      await this.setScramCredential(user, unguessable);
    } catch (err) {
      throw new Error(`Cannot revoke the SCRAM-SHA-512 credential of ${user}: ${describeError(err)}`);
    }
    await pollUntil(() => this.canAuthenticate(user, unguessable), {
      what: `the revocation of the SCRAM credential of ${user} to take effect on the broker`,
      timeoutMs: this.timeoutMs,
    });
  }

  async createTopic(topic: string, partitions = 1): Promise<void> {
    requireName('Topic name', topic);
    const admin = await this.kafkaAdmin();
    try {
      // Resolves false (no error) when the topic already exists: creation is idempotent.
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    } catch (err) {
      throw new Error(`Cannot create topic ${topic}: ${describeError(err)}`);
    }
  }

  async deleteTopic(topic: string): Promise<void> {
    requireName('Topic name', topic);
    // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION, so ask first instead of waiting out its retries.
    if (!(await this.topicExists(topic))) return;
    const admin = await this.kafkaAdmin();
    try {
      await admin.deleteTopics({ topics: [topic] });
    } catch (err) {
      if (errorCodeOf(err) === UNKNOWN_TOPIC_OR_PARTITION) return;
      throw new Error(`Cannot delete topic ${topic}: ${describeError(err)}`);
    }
    await pollUntil(async () => !(await this.topicExists(topic)), {
      what: `the deletion of topic ${topic} to take effect on the broker`,
      timeoutMs: this.timeoutMs,
    });
  }

  async topicExists(topic: string): Promise<boolean> {
    requireName('Topic name', topic);
    const admin = await this.kafkaAdmin();
    return (await admin.listTopics()).includes(topic);
  }

  async grant(grant: TopicGrant): Promise<void> {
    await this.createAcls(aclEntries(grant), `${grant.user} on ${grant.prefixed ? 'prefix ' : ''}${grant.topic}`);
  }

  async revoke(grant: TopicGrant): Promise<void> {
    const entries = aclEntries(grant);
    const admin = await this.kafkaAdmin();
    try {
      await admin.deleteAcls({ filters: entries });
    } catch (err) {
      throw new Error(`Cannot revoke ACLs of ${grant.user} on ${grant.topic}: ${describeError(err)}`);
    }
    await pollUntil(async () => (await this.presentAcls(entries)).length === 0, {
      what: `the ACL removal for ${grant.user} on ${grant.topic} to take effect on the broker`,
      timeoutMs: this.timeoutMs,
    });
  }

  async allowGroups(user: string): Promise<void> {
    requireName('Group grant user', user);
    await this.createAcls(
      [
        {
          resourceType: AclResourceTypes.GROUP,
          resourceName: '*',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: `User:${user}`,
          host: '*',
          operation: AclOperationTypes.READ,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
      `${user} on every consumer group`,
    );
  }

  private async createAcls(entries: AclEntry[], label: string): Promise<void> {
    const admin = await this.kafkaAdmin();
    try {
      await admin.createAcls({ acl: entries });
    } catch (err) {
      throw new Error(`Cannot grant ACLs to ${label}: ${describeError(err)}`);
    }
    await pollUntil(async () => (await this.presentAcls(entries)).length === entries.length, {
      what: `the ACLs for ${label} to take effect on the broker`,
      timeoutMs: this.timeoutMs,
    });
  }

  /** Which of `entries` the broker currently reports. */
  private async presentAcls(entries: AclEntry[]): Promise<AclEntry[]> {
    const admin = await this.kafkaAdmin();
    const first = entries[0];
    const filter: AclFilter = {
      resourceType: first.resourceType,
      resourceName: first.resourceName,
      resourcePatternType: first.resourcePatternType,
      principal: first.principal,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    };
    const described = await admin.describeAcls(filter);
    const existing: AclEntry[] = described.resources.flatMap(({ acls, ...resource }) =>
      acls.map((acl) => ({ ...resource, ...acl })),
    );
    return entries.filter((entry) => existing.some((found) => sameAcl(entry, found)));
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await admin.disconnect();
  }
}

/** Numeric Kafka error code of a kafkajs or @platformatic/kafka error, when it carries one. */
function errorCodeOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const withCode = err as { type?: string; errors?: unknown[]; response?: { results?: { errorCode?: number }[] } };
  const resultCode = withCode.response?.results?.find((r) => r.errorCode)?.errorCode;
  if (resultCode) return resultCode;
  if (withCode.type === 'UNKNOWN_TOPIC_OR_PARTITION') return UNKNOWN_TOPIC_OR_PARTITION;
  if (Array.isArray(withCode.errors)) {
    for (const inner of withCode.errors) {
      const code = errorCodeOf(inner) ?? (inner as { apiCode?: number }).apiCode;
      if (code) return code;
    }
  }
  return undefined;
}

/** Connects to the broker as its super user and returns the admin the service emulator uses. */
export async function createFabricKafkaAdmin(opts: FabricKafkaAdminOptions): Promise<FabricKafkaAdmin> {
  const admin = new BrokerAdmin(opts);
  await admin.connect();
  return admin;
}
