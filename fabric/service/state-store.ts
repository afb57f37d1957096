/**
 * What the service remembers: keys, v3 users and namespaces, v1 topic owners. Optionally persisted
 * as JSON (mode 0600: it holds secret keys) so a restarted fabric keeps its users and topics.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KeyRecord {
  accessKey: string;
  secretKey: string;
  /** ISO date, as returned in v3 `create_date`. */
  createDate: string;
  /** Epoch ms after which the broker accepts the key (creation + propagation delay). */
  activeAt: number;
}

export interface NamespaceRecord {
  owner: string;
  topics: string[];
}

export interface ServiceState {
  version: 1;
  /** One key per subject, shared by v1 and v3. */
  keys: Record<string, KeyRecord>;
  /** Subjects that have a v3 user (the real service's IAM user), with their namespaces. */
  v3Users: Record<string, { namespaces: string[] }>;
  /** Globally unique v3 namespaces. */
  namespaces: Record<string, NamespaceRecord>;
  /** v1 topics and the principals that registered them (first registrant owns). */
  v1Topics: Record<string, { owners: string[] }>;
}

function emptyState(): ServiceState {
  return { version: 1, keys: {}, v3Users: {}, namespaces: {}, v1Topics: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class StateStore {
  readonly state: ServiceState;

  private constructor(
    private readonly file: string | undefined,
    state: ServiceState,
  ) {
    this.state = state;
  }

  /** Loads `file` when it exists; an unreadable or malformed file is an error, never silently reset. */
  static open(file: string | undefined): StateStore {
    if (!file || !fs.existsSync(file)) return new StateStore(file, emptyState());
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`Service emulator state ${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
    }
    if (!isRecord(parsed) || parsed.version !== 1) {
      throw new Error(`Service emulator state ${file} has an unknown format (expected version 1); delete it to start afresh`);
    }
    const state = { ...emptyState(), ...parsed } as ServiceState;
    for (const key of ['keys', 'v3Users', 'namespaces', 'v1Topics'] as const) {
      if (!isRecord(state[key])) throw new Error(`Service emulator state ${file}: "${key}" must be an object`);
    }
    return new StateStore(file, state);
  }

  /** Writes the state atomically (temp file + rename). A no-op without a state path. */
  save(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  // v1 topics ------------------------------------------------------------------------------------

  v1Owners(topic: string): string[] {
    return this.state.v1Topics[topic]?.owners ?? [];
  }

  addV1Owner(topic: string, subject: string): void {
    const owners = this.v1Owners(topic);
    if (!owners.includes(subject)) this.state.v1Topics[topic] = { owners: [...owners, subject] };
  }

  removeV1Owner(topic: string, subject: string): void {
    const owners = this.v1Owners(topic).filter((owner) => owner !== subject);
    if (owners.length > 0) this.state.v1Topics[topic] = { owners };
    else delete this.state.v1Topics[topic];
  }

  v1TopicsOf(subject: string): string[] {
    return Object.keys(this.state.v1Topics)
      .filter((topic) => this.v1Owners(topic).includes(subject))
      .sort();
  }

  // v3 users and namespaces ----------------------------------------------------------------------

  hasV3User(subject: string): boolean {
    return subject in this.state.v3Users;
  }

  namespacesOf(subject: string): string[] {
    return [...(this.state.v3Users[subject]?.namespaces ?? [])].sort();
  }

  namespaceOwner(namespace: string): string | undefined {
    return this.state.namespaces[namespace]?.owner;
  }

  topicsOf(namespace: string): string[] {
    return [...(this.state.namespaces[namespace]?.topics ?? [])].sort();
  }

  ensureV3User(subject: string): void {
    if (!this.hasV3User(subject)) this.state.v3Users[subject] = { namespaces: [] };
  }

  deleteV3User(subject: string): void {
    delete this.state.v3Users[subject];
  }

  /** Records a namespace for its owner (the owner must have a v3 user). */
  addNamespace(subject: string, namespace: string): void {
    this.ensureV3User(subject);
    if (!this.state.namespaces[namespace]) this.state.namespaces[namespace] = { owner: subject, topics: [] };
    const user = this.state.v3Users[subject];
    if (!user.namespaces.includes(namespace)) user.namespaces.push(namespace);
  }

  removeNamespace(subject: string, namespace: string): void {
    if (this.namespaceOwner(namespace) === subject) delete this.state.namespaces[namespace];
    const user = this.state.v3Users[subject];
    if (user) user.namespaces = user.namespaces.filter((ns) => ns !== namespace);
  }

  addTopic(namespace: string, topic: string): void {
    const record = this.state.namespaces[namespace];
    if (record && !record.topics.includes(topic)) record.topics.push(topic);
  }

  removeTopic(namespace: string, topic: string): void {
    const record = this.state.namespaces[namespace];
    if (record) record.topics = record.topics.filter((t) => t !== topic);
  }

  // keys -----------------------------------------------------------------------------------------

  key(subject: string): KeyRecord | undefined {
    return this.state.keys[subject];
  }

  setKey(subject: string, key: KeyRecord): void {
    this.state.keys[subject] = key;
  }

  deleteKey(subject: string): void {
    delete this.state.keys[subject];
  }
}
