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
import urllib.request

import diaspora_event_sdk.sdk.client as client_module

client_module.get_web_service_url = lambda environment=None: os.environ["DIASPORA_TEST_SERVICE_URL"]

from diaspora_event_sdk import Client, CommitLostError, RESTConsumer, WebAPIError  # noqa: E402


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


SCENARIOS = {"produce": produce, "produce_batch": produce_batch, "consume": consume, "recover": recover}


def main() -> None:
    scenario, args = sys.argv[1], json.loads(sys.argv[2])
    client = Client()
    print(json.dumps(plain(SCENARIOS[scenario](client, args))))


if __name__ == "__main__":
    main()
