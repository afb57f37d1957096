/**
 * What the service emulator needs from the broker. Implemented against the real Kafka broker in
 * `kafka-admin.ts`; the emulator never talks to kafkajs directly.
 */
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'CREATE' | 'ALL';

export interface TopicGrant {
  /** Kafka principal name without the `User:` prefix; `*` means every user. */
  user: string;
  /** A literal topic name, or a prefix when `prefixed` is true (v3 namespaces: `ns-xxxxxxxxxxxx.`). */
  topic: string;
  prefixed: boolean;
  operations: AclOperation[];
}

export interface FabricKafkaAdmin {
  /** Sets (creates or replaces) the user's SCRAM-SHA-512 credential. */
  upsertScramUser(user: string, password: string): Promise<void>;
  /** Removes the user's SCRAM-SHA-512 credential; no error when there is none. */
  deleteScramUser(user: string): Promise<void>;
  createTopic(topic: string, partitions?: number): Promise<void>;
  /** Deletes the topic; no error when it does not exist. */
  deleteTopic(topic: string): Promise<void>;
  topicExists(topic: string): Promise<boolean>;
  grant(grant: TopicGrant): Promise<void>;
  revoke(grant: TopicGrant): Promise<void>;
  /** Lets the user join any consumer group (READ on group `*`), as the real service's ACLs do. */
  allowGroups(user: string): Promise<void>;
  close(): Promise<void>;
}
