"""kafka-python (the client the Diaspora Python SDK wraps) for `npm run bench`.

Reads one JSON job on stdin (credentials never on the command line) and prints one JSON line.
  produce: send() of dicts with the SDK's JSON value serializer, acks=all, then flush().
  consume: iterate from the earliest offset in a fresh group, JSON-decoding each value.
The payload has the same shape and size as the other clients' (bench/payload.ts).
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer


def common(job):
    return dict(
        bootstrap_servers=job["brokers"],
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=job["username"],
        sasl_plain_password=job["password"],
    )


def produce(job):
    template = json.loads(job["template"])
    producer = KafkaProducer(
        acks="all",
        value_serializer=lambda v: json.dumps(v).encode("utf-8"),
        **common(job),
    )
    # Warm-up: metadata and the leader's connection, outside the timing.
    producer.send(job["topic"], dict(template, seq=-1)).get(timeout=30)
    started = time.perf_counter()
    for seq in range(job["count"]):
        producer.send(job["topic"], dict(template, seq=seq))
    producer.flush(timeout=600)
    elapsed = time.perf_counter() - started
    producer.close()
    return {"count": job["count"], "elapsedMs": elapsed * 1000}


def consume(job):
    consumer = KafkaConsumer(
        job["topic"],
        group_id=job["groupId"],
        auto_offset_reset="earliest",
        value_deserializer=lambda m: json.loads(m.decode("utf-8")),
        consumer_timeout_ms=120000,
        **common(job),
    )
    count = 0
    first = last = 0.0
    for _ in consumer:
        now = time.perf_counter()
        if count == 0:
            first = now
        last = now
        count += 1
        if count >= job["count"]:
            break
    consumer.close()
    return {"count": count, "firstAt": first * 1000, "lastAt": last * 1000}


def main():
    job = json.loads(sys.stdin.read())
    result = produce(job) if job["mode"] == "produce" else consume(job)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
