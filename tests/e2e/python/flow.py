"""Drive the real `posthog` Python SDK against the inspector.

Usage: flow.py <host> <token>
Prints one JSON object on stdout: the uuids the SDK returned and any errors it reported.
"""

import sys

from posthog import Client
import posthog

from sdk_client import ReportedErrors, print_result, sync_client


def main() -> int:
    host, token = sys.argv[1], sys.argv[2]
    errors = ReportedErrors()

    # sync_mode: every call is one POST /batch/ that returns when the server answered.
    client = sync_client(Client, token, host, errors)
    uuids = {
        "capture": client.capture("viewed pricing", distinct_id="anon-p1", properties={"plan": "free"}),
        "alias": client.alias(previous_id="anon-p1", distinct_id="user-p1"),
        "set": client.set(distinct_id="user-p1", properties={"email": "a@b.c"}),
        "set_once": client.set_once(distinct_id="user-p1", properties={"first_seen": "2026-11-24"}),
        "personless": client.capture("personless event", properties={"source": "cron"}),
    }
    client.shutdown()

    # The default, batched and gzip-compressed: queued in a thread and sent on flush.
    gz = Client(token, host=host, gzip=True, on_error=errors.on_error, max_retries=0, timeout=10)
    uuids["gzip"] = gz.capture("gzip batch", distinct_id="user-p1")
    gz.flush()
    gz.shutdown()

    return print_result({"uuids": uuids, "errors": errors, "version": posthog.VERSION})


if __name__ == "__main__":
    sys.exit(main())
