/** Where and as whom every outside client connects (SCRAM-SHA-512 over SASL_PLAINTEXT). */
export interface KafkaTarget {
  brokers: string[];
  username: string;
  password: string;
}
