"""Identity flows with the real `posthog` Python SDK, for identity-server-sdks.test.mjs.

Usage: identity_flow.py <host> <token>
Every call is sent synchronously (one POST /batch/ each), so arrival order = call order.
Prints one JSON object on stdout: the uuids the SDK returned and any errors it reported.
"""

import sys

import posthog
from posthog import Client

from sdk_client import ReportedErrors, print_result, sync_client


def main() -> int:
    host, token = sys.argv[1], sys.argv[2]
    errors = ReportedErrors()
    client = sync_client(Client, token, host, errors)
    uuids = {}
    # anon-p1 browses, then alias(previous_id, distinct_id): sent as distinct_id = previous_id
    # (the target) with properties.alias = distinct_id (the source).
    uuids["capture"] = client.capture("viewed pricing", distinct_id="anon-p1", properties={"plan": "free"})
    uuids["alias"] = client.alias(previous_id="anon-p1", distinct_id="user-p1")
    uuids["set"] = client.set(distinct_id="user-p1", properties={"plan": "pro"})
    # No distinct id: the SDK makes one up and marks the event personless.
    uuids["personless"] = client.capture("personless event", properties={"source": "cron"})

    # A merge PostHog refuses: user-x1 is identified (it absorbed anon-x), user-x2 has its own
    # person, then user-x2's $identify names user-x1 as its "anonymous" id.
    uuids["x_anon"] = client.capture("x browsing", distinct_id="anon-x")
    uuids["x1_identify"] = client.capture(
        "$identify", distinct_id="user-x1", properties={"$anon_distinct_id": "anon-x", "$set": {"email": "x1@example.com"}}
    )
    uuids["x2_capture"] = client.capture("x2 browsing", distinct_id="user-x2")
    uuids["x2_identify"] = client.capture(
        "$identify", distinct_id="user-x2", properties={"$anon_distinct_id": "user-x1", "$set": {"email": "x2@example.com"}}
    )
    client.flush()
    client.shutdown()

    return print_result({"uuids": uuids, "errors": errors, "version": posthog.VERSION})


if __name__ == "__main__":
    sys.exit(main())
