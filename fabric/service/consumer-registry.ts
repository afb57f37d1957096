/**
 * The service's REST consumer instances: at most 4 per user, named uniquely in their group, served
 * one request at a time, closed after an idle time (5 min by default; time spent processing a
 * fetch counts as idle), and all dropped at once by what a service redeploy does.
 */
import * as crypto from 'node:crypto';
import type { DataPlane } from './data-plane';
import { ConsumerInstance, type InstanceSettings } from './consumer-instance';
import { REST_ERRORS, RestError } from './rest-errors';
import { Mutex } from './timers';

export const INSTANCES_PER_USER = 4;

interface Entry {
  instance: ConsumerInstance;
  lock: Mutex;
  idle: NodeJS.Timeout | undefined;
  busy: number;
}

export interface InstanceSummary {
  subject: string;
  group: string;
  name: string;
  topics: string[];
  partitions: Array<{ topic: string; partition: number }>;
}

const entryKey = (namespace: string, group: string, name: string): string => `${namespace}\u0000${group}\u0000${name}`;

export const instanceNotFound = (group: string, name: string): RestError =>
  new RestError(404, REST_ERRORS.instanceNotFound, `Consumer instance ${name} not found in group ${group}: it was deleted, closed after being idle, or dropped when the service restarted; create it again`);

export class ConsumerRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly idleMs: () => number,
    private readonly log: (line: string) => void,
  ) {}

  create(subject: string, namespace: string, group: string, name: string | undefined, settings: InstanceSettings): ConsumerInstance {
    const instanceName = name ?? `rest-consumer-${crypto.randomUUID()}`;
    if (this.entries.has(entryKey(namespace, group, instanceName))) {
      throw new RestError(409, REST_ERRORS.instanceExists, `Consumer instance ${instanceName} already exists in group ${group}; pick another name or delete it first`);
    }
    const held = [...this.entries.values()].filter((e) => e.instance.subject === subject).length;
    if (held >= INSTANCES_PER_USER) {
      throw new RestError(409, REST_ERRORS.instanceLimit,
        `Consumer instance limit reached: a user may hold ${INSTANCES_PER_USER} instances at once and ${subject} holds ${held}; delete one (DELETE on its base_uri) or wait until an idle one is closed`);
    }
    const instance = new ConsumerInstance(this.dataPlane, subject, namespace, group, instanceName, settings, this.log);
    const entry: Entry = { instance, lock: new Mutex(), idle: undefined, busy: 0 };
    this.entries.set(entryKey(namespace, group, instanceName), entry);
    this.armIdle(entry);
    return instance;
  }

  private entry(namespace: string, group: string, name: string): Entry {
    const entry = this.entries.get(entryKey(namespace, group, name));
    if (!entry || entry.instance.closed) throw instanceNotFound(group, name);
    return entry;
  }

  /** Runs a request on the instance, one at a time; the idle clock stops while it runs. */
  async serve<T>(namespace: string, group: string, name: string, work: (instance: ConsumerInstance) => Promise<T>): Promise<T> {
    const entry = this.entry(namespace, group, name);
    entry.busy += 1;
    clearTimeout(entry.idle);
    try {
      return await entry.lock.run(async () => {
        if (entry.instance.closed) throw instanceNotFound(group, name);
        return work(entry.instance);
      });
    } finally {
      entry.busy -= 1;
      if (entry.busy === 0 && !entry.instance.closed) this.armIdle(entry);
    }
  }

  /** Deletes the instance now, cutting short a fetch that waits (it answers 40403). */
  async remove(namespace: string, group: string, name: string): Promise<void> {
    const entry = this.entry(namespace, group, name);
    await this.close(entry);
  }

  private armIdle(entry: Entry): void {
    clearTimeout(entry.idle);
    entry.idle = setTimeout(() => {
      const { instance } = entry;
      this.log(`consumer instance ${instance.name} of group ${instance.kafkaGroup} closed after ${this.idleMs()} ms idle`);
      void this.close(entry);
    }, this.idleMs());
    entry.idle.unref();
  }

  private async close(entry: Entry): Promise<void> {
    clearTimeout(entry.idle);
    const { instance } = entry;
    this.entries.delete(entryKey(instance.namespace, instance.group, instance.name));
    await instance.close();
  }

  /** Re-arms every idle clock, after the idle time was changed. */
  rearm(): void {
    for (const entry of this.entries.values()) if (entry.busy === 0) this.armIdle(entry);
  }

  list(): InstanceSummary[] {
    return [...this.entries.values()].map(({ instance }) => ({
      subject: instance.subject,
      group: instance.group,
      name: instance.name,
      topics: [...instance.topics],
      partitions: instance.assignment(),
    }));
  }

  /** Closes every instance, as a deploy or restart of the service does; resolves with how many there were. */
  async dropAll(): Promise<number> {
    const all = [...this.entries.values()];
    await Promise.all(all.map((entry) => this.close(entry)));
    return all.length;
  }
}
