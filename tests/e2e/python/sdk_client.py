"""What the SDK flow scripts share: a client that sends each call at once, the errors the SDK
reports, and the one JSON line each script prints.

Imported by flow.py, identity_flow.py and vendor_flow.py, which Python runs with this folder first
on sys.path.
"""

import json


class ReportedErrors(list):
    """The errors an SDK reported, one "Type: message (n items)" line each.

    A list, so it goes into the printed JSON as it is; `on_error` is the callback the PostHog,
    Segment and RudderStack clients take.
    """

    def on_error(self, error, items):
        self.append(f"{type(error).__name__}: {error} ({len(items or [])} items)")


def sync_client(client_class, key, host, errors):
    """A PostHog, Segment or RudderStack client (they share the constructor) in sync_mode.

    Invariants: every call is one request that returns once the server answered, so arrival
    order = call order; no retries, so a failure shows up in `errors` instead of as a second copy.
    """
    return client_class(key, host=host, sync_mode=True, on_error=errors.on_error, max_retries=0, timeout=10)


def print_result(result):
    """Prints `result` as the script's one JSON line; the exit code: 1 when the SDK reported errors."""
    print(json.dumps(result))
    return 1 if result["errors"] else 0
