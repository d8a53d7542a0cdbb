"""Drive the real `posthog` Python SDK against the inspector.

Usage: flow.py <host> <token>
Prints one JSON object on stdout: the uuids the SDK returned and any errors it reported.
"""

import json
import sys

from posthog import Client
import posthog


def main() -> int:
    host, token = sys.argv[1], sys.argv[2]
    errors = []

    def on_error(error, items):
        errors.append(f"{type(error).__name__}: {error} ({len(items or [])} items)")

    # sync_mode: every call is one POST /batch/ that returns when the server answered.
    client = Client(token, host=host, sync_mode=True, on_error=on_error, max_retries=0, timeout=10)
    uuids = {
        "capture": client.capture("viewed pricing", distinct_id="anon-p1", properties={"plan": "free"}),
        "alias": client.alias(previous_id="anon-p1", distinct_id="user-p1"),
        "set": client.set(distinct_id="user-p1", properties={"email": "a@b.c"}),
        "set_once": client.set_once(distinct_id="user-p1", properties={"first_seen": "2026-11-24"}),
        "personless": client.capture("personless event", properties={"source": "cron"}),
    }
    client.shutdown()

    # The default, batched and gzip-compressed: queued in a thread and sent on flush.
    gz = Client(token, host=host, gzip=True, on_error=on_error, max_retries=0, timeout=10)
    uuids["gzip"] = gz.capture("gzip batch", distinct_id="user-p1")
    gz.flush()
    gz.shutdown()

    print(json.dumps({"uuids": uuids, "errors": errors, "version": posthog.VERSION}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
