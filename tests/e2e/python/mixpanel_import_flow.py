"""The `mixpanel` Python SDK's import path against the inspector: import_data() and merge(), both
sent to /import as a data= form (mixpanel-python `Consumer._write_request`), which raise
MixpanelException unless the reply is JSON with status 1.

Usage: mixpanel_import_flow.py <inspector url> <token>
Prints one JSON object on stdout: the errors the SDK raised (none expected).
"""

import sys
import time

from sdk_client import print_result

DAY = 86400


def main(url, token):
    import mixpanel

    consumer = mixpanel.Consumer(
        events_url=f"{url}/track",
        people_url=f"{url}/engage",
        import_url=f"{url}/import",
        groups_url=f"{url}/groups",
        request_timeout=10,
        retry_limit=0,
    )
    mp = mixpanel.Mixpanel(token, consumer=consumer)
    # The API key is deprecated but still sent: the inspector needs no credentials.
    key = "e2e-api-key"
    old = int(time.time()) - 3 * DAY
    u1, d1, d2 = "mpy-user-1", "mpy-device-1", "mpy-device-2"
    steps = [
        lambda: mp.import_data(key, f"$device:{d1}", "Viewed Pricing", old, {"$device_id": d1}),
        lambda: mp.import_data(key, u1, "Signed In", old + 60, {"$device_id": d1, "$user_id": u1}),
        lambda: mp.import_data(key, f"$device:{d2}", "Viewed Pricing", old + 120, {"$device_id": d2}),
        lambda: mp.merge(key, u1, f"$device:{d2}"),
    ]
    errors = []
    for step in steps:
        try:
            step()
        except Exception as error:  # MixpanelException on a reply without status 1
            errors.append(f"{type(error).__name__}: {error}")
    return {"errors": errors, "version": mixpanel.__version__}


if __name__ == "__main__":
    sys.exit(print_result(main(sys.argv[1], sys.argv[2])))
