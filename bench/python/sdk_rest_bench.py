"""The Diaspora SDK's HTTPS path as the benchmark's baseline: a produce_batch loop or a
RESTConsumer.fetch loop against the local service emulator.

Usage: sdk_rest_bench.py produce <topic> <count> <payload bytes> <entries per request>
       sdk_rest_bench.py consume <topic> <count> <group>
Prints {"count", "seconds", "cpu_seconds"} (the process's CPU time over the same interval): produce is timed after one warm-up request; consume from the first
fetched event to the last (the instance's creation and the group join left out, as for diaspora-in),
each value parsed as JSON as a flow would use it. The interpreter start and the sign-in are left out.
The SDK signs in as a confidential client (DIASPORA_SDK_CLIENT_ID / _SECRET) against the Globus Auth
emulator (GLOBUS_SDK_SERVICE_URL_AUTH); its service URL is pointed at DIASPORA_TEST_SERVICE_URL.
"""

from __future__ import annotations

import json
import os
import sys
import time

import diaspora_event_sdk.sdk.client as client_module

client_module.get_web_service_url = lambda environment=None: os.environ["DIASPORA_TEST_SERVICE_URL"]

from diaspora_event_sdk import Client, RESTConsumer  # noqa: E402


def produce(client: Client, topic: str, count: int, payload_bytes: int, batch: int) -> dict:
    filler = "x" * max(0, payload_bytes - 40)
    entries = [{"value": {"seq": i, "data": filler}} for i in range(count)]
    client.produce_batch(topic, entries[:1])  # the first request opens the connection
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, batch):
        answer = client.produce_batch(topic, entries[start : start + batch])
        if answer.get("failures"):
            raise SystemExit(f"failed entries: {answer['failures'][:3]}")
    return {"count": count, "seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}


def consume(client: Client, topic: str, count: int, group: str) -> dict:
    seen = 0
    first_at = None
    with RESTConsumer(group, client=client, format="binary", auto_offset_reset="earliest") as consumer:
        consumer.subscribe([topic])
        while seen < count:
            records = consumer.fetch(timeout_ms=1000)
            if not records:
                continue
            if first_at is None:
                first_at, cpu = time.perf_counter(), time.process_time()
            for record in records:
                json.loads(record["value"])
            seen += len(records)
            consumer.commit()
        last_at, cpu_seconds = time.perf_counter(), time.process_time() - cpu
    # As for diaspora-in: from the first event (the first fetch's answer) to the last one handled.
    return {"count": seen - 1, "seconds": max(1e-6, last_at - first_at), "cpu_seconds": cpu_seconds}


def main() -> None:
    mode, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = Client()
    client.produce_batch  # noqa: B018 - the attribute exists in 0.5.x
    if mode == "produce":
        result = produce(client, topic, count, int(sys.argv[4]), int(sys.argv[5]))
    else:
        result = consume(client, topic, count, sys.argv[4])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
