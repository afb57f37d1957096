/**
 * Turns keys into broker credentials the way the seed era's MSK did: a rotated key's old secret
 * stops working at once, the new one only after the propagation delay (AWS Secrets Manager → MSK
 * took 30 s to 2 min). Operations on one subject run one after another, so a late activation of
 * an old key can never overwrite a newer one.
 */
import type { FabricKafkaAdmin } from '../kafka-admin-api';

const ACTIVATION_ATTEMPTS = 3;
const ACTIVATION_RETRY_MS = 1_000;

export class KeyPropagator {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Bumped on every rotate/revoke: a scheduled activation of an older generation is dropped. */
  private readonly generations = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly kafka: FabricKafkaAdmin,
    private readonly log: (line: string) => void,
  ) {}

  /** Revokes the subject's current secret now; `secret` is accepted from `activeAt` (epoch ms) on. */
  async rotate(subject: string, secret: string, activeAt: number): Promise<void> {
    const generation = this.nextGeneration(subject);
    await this.serial(subject, () => this.kafka.deleteScramUser(subject));
    await this.schedule(subject, secret, activeAt, generation);
  }

  /** Revokes the subject's secret now, and any activation still pending. */
  async revoke(subject: string): Promise<void> {
    this.nextGeneration(subject);
    await this.serial(subject, () => this.kafka.deleteScramUser(subject));
  }

  /** After a restart: (re)sets a stored key now when it is due, else when it becomes due. */
  async restore(subject: string, secret: string, activeAt: number): Promise<void> {
    await this.schedule(subject, secret, activeAt, this.nextGeneration(subject));
  }

  /** Keys created but not yet accepted by the broker. */
  pendingCount(): number {
    return this.timers.size;
  }

  /** Cancels pending activations and waits for broker calls already under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.chains.values());
  }

  private nextGeneration(subject: string): number {
    const generation = (this.generations.get(subject) ?? 0) + 1;
    this.generations.set(subject, generation);
    const timer = this.timers.get(subject);
    if (timer) clearTimeout(timer);
    this.timers.delete(subject);
    return generation;
  }

  private async schedule(subject: string, secret: string, activeAt: number, generation: number): Promise<void> {
    const wait = activeAt - Date.now();
    if (wait <= 0) {
      await this.serial(subject, () => this.activate(subject, secret, generation));
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(subject);
      this.serial(subject, () => this.activate(subject, secret, generation)).catch((err: unknown) => {
        this.log(`Key of ${subject} could not be activated on the broker: ${(err as Error).message}`);
      });
    }, wait);
    this.timers.set(subject, timer);
  }

  private async activate(subject: string, secret: string, generation: number): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed || this.generations.get(subject) !== generation) return;
      try {
        await this.kafka.upsertScramUser(subject, secret);
        return;
      } catch (err) {
        if (attempt >= ACTIVATION_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, ACTIVATION_RETRY_MS));
      }
    }
  }

  private serial<T>(subject: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(subject) ?? Promise.resolve();
    const result = previous.then(work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(subject, settled);
    void settled.then(() => {
      if (this.chains.get(subject) === settled) this.chains.delete(subject);
    });
    return result;
  }
}
