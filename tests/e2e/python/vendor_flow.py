"""Identity flows with the real Segment, RudderStack and Mixpanel Python SDKs, for vendors-python.test.mjs.

Usage: vendor_flow.py <segment|rudder|mixpanel> <inspector url> <write key or token>
Every call is sent synchronously (one request each), so arrival order = call order.
Prints one JSON object on stdout: the message ids the SDK made (Segment, Rudder) and any errors
the SDK reported.

The flow is the same for every SDK, with the SDK's own vocabulary:
  1. an anonymous visitor browses (device D1)
  2. identify user U1, linking the anonymous id
  3. U1 signs up (a track with the user id)
  4. logout done right: a new anonymous id on the same device, then identify U2
  5. alias: a legacy id joins U1
  6. logout done wrong: U3 identifies on U2's anonymous id (no new anonymous id in between)
"""

import sys

from sdk_client import ReportedErrors, print_result, sync_client


def segment_like(module, url, key, prefix):
    errors = ReportedErrors()
    client = sync_client(module.Client, key, url, errors)
    ids = {}
    device = {"device": {"id": f"{prefix}-device-1"}}
    a1, a2 = f"{prefix}-anon-1", f"{prefix}-anon-2"
    u1, u2, u3 = f"{prefix}-user-1", f"{prefix}-user-2", f"{prefix}-user-3"

    def keep(name, result):
        # Both SDKs return (success, message) from every call.
        ok, msg = result
        ids[name] = msg.get("messageId") if ok else None

    keep("browse", client.track(anonymous_id=a1, event="Viewed Pricing", properties={"plan": "free"}, context=device))
    keep("identify_1", client.identify(user_id=u1, anonymous_id=a1, traits={"email": f"{u1}@example.com"}, context=device))
    keep("signup", client.track(user_id=u1, anonymous_id=a1, event="Account Created", context=device))
    keep("browse_2", client.track(anonymous_id=a2, event="Viewed Pricing", context=device))
    keep("identify_2", client.identify(user_id=u2, anonymous_id=a2, traits={"email": f"{u2}@example.com"}, context=device))
    keep("alias", client.alias(previous_id=f"{prefix}-legacy-1", user_id=u1))
    keep("identify_3", client.identify(user_id=u3, anonymous_id=a2, traits={"email": f"{u3}@example.com"}, context=device))
    # sync_mode sent each call already (there is no consumer thread to flush or join).
    return {"ids": ids, "errors": errors, "version": module.VERSION}


def mixpanel_flow(url, token, prefix):
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
    errors = []
    d1 = f"{prefix}-device-1"
    u1, u2, u3 = f"{prefix}-user-1", f"{prefix}-user-2", f"{prefix}-user-3"
    steps = [
        # Simplified ID Merge from a server: $device_id while anonymous, $user_id once known.
        lambda: mp.track(f"$device:{d1}", "Viewed Pricing", {"$device_id": d1, "plan": "free"}),
        lambda: mp.track(u1, "Signed In", {"$device_id": d1, "$user_id": u1}),
        lambda: mp.people_set(u1, {"$email": f"{u1}@example.com"}),
        lambda: mp.track(u1, "Account Created", {"$user_id": u1}),
        # Logout done right: a new device id, then U2.
        lambda: mp.track(f"$device:{d1}-b", "Viewed Pricing", {"$device_id": f"{d1}-b"}),
        lambda: mp.track(u2, "Signed In", {"$device_id": f"{d1}-b", "$user_id": u2}),
        # Logout done wrong: U3 signs in on U2's device id; its cluster already has $user_id U2.
        lambda: mp.track(u3, "Signed In", {"$device_id": f"{d1}-b", "$user_id": u3}),
        # Original ID Merge vocabulary. mp.alias() always posts to api.mixpanel.com, whatever the
        # consumer (a documented quirk), so send its event, $create_alias, through the consumer.
        lambda: mp.track(u1, "$create_alias", {"distinct_id": u1, "alias": f"{prefix}-alias-1"}),
    ]
    for step in steps:
        try:
            step()
        except Exception as error:  # the SDK raises MixpanelException on a non-1 reply
            errors.append(f"{type(error).__name__}: {error}")
    return {"ids": {}, "errors": errors, "version": mixpanel.__version__}


def main() -> int:
    sdk, url, key = sys.argv[1], sys.argv[2], sys.argv[3]
    if sdk == "segment":
        import segment.analytics as module

        out = segment_like(module, url, key, "sp")
    elif sdk == "rudder":
        import rudderstack.analytics as module

        out = segment_like(module, url, key, "rp")
    elif sdk == "mixpanel":
        out = mixpanel_flow(url, key, "mp")
    else:
        raise SystemExit(f"unknown sdk {sdk}")
    return print_result(out)


if __name__ == "__main__":
    sys.exit(main())
