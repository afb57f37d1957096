"""Runs the Diaspora SDK (diaspora-event-sdk, unchanged, from PyPI) against the local emulators.

Usage: sdk_driver.py <scenario> <json arguments>; prints one JSON object of what the SDK returned.
The SDK signs in as a confidential client (DIASPORA_SDK_CLIENT_ID / _SECRET) against the Globus
Auth emulator (GLOBUS_SDK_SERVICE_URL_AUTH). Its web service URL is fixed to production or
localhost:8000, so the driver points the SDK's own lookup at DIASPORA_TEST_SERVICE_URL.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import time
import urllib.request

import diaspora_event_sdk.sdk.client as client_module
import kafka

client_module.get_web_service_url = lambda environment=None: os.environ["DIASPORA_TEST_SERVICE_URL"]

from diaspora_event_sdk import Client, CommitLostError, KafkaConsumer, KafkaProducer, RESTConsumer, WebAPIError  # noqa: E402


def plain(value):
    """JSON-safe form: bytes become {"b64": ...}, tuples lists, dict keys strings."""
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k if not isinstance(k, tuple) else f"{k[0]}:{k[1]}"): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def error_of(err: Exception) -> dict:
    return {
        "type": type(err).__name__,
        "http_status": getattr(err, "http_status", None),
        "error_code": getattr(err, "error_code", None),
    }


def drop_instances() -> None:
    """What a deploy of the service does: every consumer instance is gone (fabric control route)."""
    credentials = base64.b64encode(f"admin:{os.environ['DIASPORA_TEST_ADMIN_PASSWORD']}".encode()).decode()
    request = urllib.request.Request(
        f"{os.environ['DIASPORA_TEST_SERVICE_URL']}/_fabric/consumers",
        method="DELETE",
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()


def fetch_until(consumer: RESTConsumer, count: int, tries: int = 30) -> list:
    records: list = []
    for _ in range(tries):
        if len(records) >= count:
            break
        records.extend(consumer.fetch(timeout_ms=1000))
    return records


def summary(records: list) -> list:
    return [
        {"offset": r["offset"], "topic": r["topic"], "key": r["key"], "value": r["value"], "headers": r["headers"]}
        for r in records
    ]


def produce(client: Client, args: dict) -> dict:
    topic = args["topic"]
    when = datetime.datetime(2026, 10, 26, 15, 4, 5, tzinfo=datetime.timezone.utc)
    results = [
        client.produce(topic, {"step": 1, "loss": 0.52}, key="job-42", headers={"trace": b"abc"}, timestamp=when),
        client.produce(topic, "done"),
        client.produce(topic, "caf\u00e9 bytes".encode(), key=b"raw-key"),
    ]
    try:
        client.produce(topic, 1, timestamp="2026-10-26T15:04:05")
        local = None
    except WebAPIError as err:
        local = error_of(err)
    try:
        client.produce("never-created", 1)
        missing = None
    except WebAPIError as err:
        missing = error_of(err)
    return {"results": results, "local_timestamp": local, "missing_topic": missing, "namespace": client.namespace}


def produce_batch(client: Client, args: dict) -> dict:
    return client.produce_batch(
        args["topic"],
        [
            {"value": {"n": 1}},
            {"value": {"n": 2}, "timestamp": "2026-01-01T00:00:00"},
            {"id": "third", "key": "k", "value": "v"},
        ],
    )


def consume(client: Client, args: dict) -> dict:
    topic, group, count = args["topic"], args["group"], args["count"]
    tp = (topic, 0)
    out: dict = {}
    with RESTConsumer(group, client=client, format="binary", auto_offset_reset="earliest") as consumer:
        consumer.subscribe([topic])
        out["subscription"] = consumer.subscription()
        out["records"] = summary(fetch_until(consumer, count))
        out["assignment"] = consumer.assignment()
        consumer.commit()
        out["committed_positions"] = consumer.committed([tp])
        consumer.commit({tp: 0})
        out["committed_offsets"] = consumer.committed([tp])
        consumer.seek({tp: count - 1})
        out["after_seek"] = [r["offset"] for r in fetch_until(consumer, 1)]
        consumer.seek_to_beginning()
        out["after_beginning"] = [r["offset"] for r in fetch_until(consumer, count)]
        consumer.seek_to_end([tp])
        out["after_end"] = consumer.fetch(timeout_ms=500)
    out["closed"] = consumer.closed
    with RESTConsumer(group, client=client, format="json") as assigned:
        assigned.assign([tp])
        out["assigned"] = assigned.assignment()
        out["assigned_records"] = summary(fetch_until(assigned, count - 1))
    return out


def recover(client: Client, args: dict) -> dict:
    topic, group, count = args["topic"], args["group"], args["count"]
    tp = (topic, 0)
    out: dict = {}
    consumer = RESTConsumer(group, client=client, name=args["name"], auto_offset_reset="earliest")
    try:
        consumer.subscribe([topic])
        out["first"] = [r["offset"] for r in fetch_until(consumer, count)]
        consumer.commit({tp: 0})
        drop_instances()
        # The SDK creates the instance again, subscribes again and resumes at the group's commit.
        out["after_drop"] = [r["offset"] for r in fetch_until(consumer, count - 1)]
        out["name_kept"] = consumer.name
        consumer.commit()
        out["committed"] = consumer.committed([tp])
        drop_instances()
        try:
            consumer.commit({tp: 1})
            out["commit_offsets_after_drop"] = None
        except CommitLostError as err:
            out["commit_offsets_after_drop"] = error_of(err)
        drop_instances()
        try:
            consumer.commit()
            out["commit_positions_after_drop"] = None
        except CommitLostError as err:
            out["commit_positions_after_drop"] = error_of(err)
    finally:
        consumer.close()
    out["closed"] = consumer.closed
    return out


def local_broker_login(client: Client) -> dict:
    """The one setting the SDK's Kafka path cannot keep here: its login. The SDK signs an AWS MSK IAM
    token for SASL/OAUTHBEARER over SASL_SSL, which only MSK's own brokers can check; the local broker
    takes the same Diaspora key as SCRAM-SHA-512 (user = the subject, password = the secret key).
    Passed as the SDK's own extra configs, which it lays over its defaults; the rest is the SDK's."""
    key = client.create_key()  # the SDK's classes ask for it again and get the same key
    login = {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": client.subject_openid,
        "sasl_plain_password": key["secret_key"],
    }
    # A fresh key reaches the broker after the service's propagation delay: wait until it logs in
    # (kafka-python's own consumer, without a pinned api_version, connects when it is created).
    deadline = time.monotonic() + 60
    while True:
        try:
            kafka.KafkaConsumer(bootstrap_servers=key["endpoint"], **login).close()
            return login
        except Exception:  # noqa: BLE001 - not accepted yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def kafka_headers(headers) -> list:
    return [{"name": name, "value": value} for name, value in headers or []]


def kafka_path(client: Client, args: dict) -> dict:
    """REST → the SDK's KafkaConsumer, and the SDK's KafkaProducer → RESTConsumer."""
    rest_topic, kafka_topic = args["rest_topic"], args["kafka_topic"]
    login = local_broker_login(client)
    client.produce(rest_topic, {"step": 1, "loss": 0.52}, key="job-42", headers={"trace": b"abc"})
    client.produce(rest_topic, "caf\u00e9 bytes".encode(), key=b"raw-key")
    consumer = KafkaConsumer(
        f"{client.namespace}.{rest_topic}", group_id=f"{client.namespace}.{args['group']}", auto_offset_reset="earliest", **login
    )
    read: list = []
    deadline = time.monotonic() + 60
    while len(read) < 2 and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1000).values():
            read.extend({"key": r.key, "value": r.value, "headers": kafka_headers(r.headers)} for r in batch)
    consumer.close()

    producer = KafkaProducer(f"{client.namespace}.{kafka_topic}", acks="all", **login)
    producer.send(f"{client.namespace}.{kafka_topic}", {"step": 2, "note": "caf\u00e9"}, key=b"job-43", headers=[("trace", b"def")])
    producer.send(f"{client.namespace}.{kafka_topic}", "done")
    producer.flush()
    producer.close()
    with RESTConsumer(args["group"], client=client, format="binary", auto_offset_reset="earliest") as rest:
        rest.subscribe([kafka_topic])
        fetched = summary(fetch_until(rest, 2))
    return {"kafka_consumer": read, "rest_consumer": fetched}


SCENARIOS = {"produce": produce, "produce_batch": produce_batch, "consume": consume, "recover": recover, "kafka_path": kafka_path}


def main() -> None:
    scenario, args = sys.argv[1], json.loads(sys.argv[2])
    client = Client()
    print(json.dumps(plain(SCENARIOS[scenario](client, args))))


if __name__ == "__main__":
    main()
