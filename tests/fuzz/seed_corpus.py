"""Seeds the fuzz corpus from the recorded SDK requests: each PostHog request body becomes an
input of `posthog_request`, each Segment/RudderStack body one of `segment_request`, each
Mixpanel body one of `mixpanel_request` (their first byte chooses route and hints, see the
targets), and the lz64 bodies become inputs of `lz64`. Idempotent: files are named by content
hash."""
import base64
import hashlib
import json
import pathlib
import sys

PATHS = ["/e/", "/i/v0/e/", "/batch/", "/engage/", "/s/", "/i/v1/analytics/events", "/capture", "/track"]
# Must match the PATHS tables of targets/segment_request.rs and targets/mixpanel_request.rs.
SEGMENT_PATHS = ["/v1/batch", "/v1/b", "/v1/import", "/v1/track", "/v1/t", "/v1/i", "/v1/p", "/v1/s", "/v1/g",
                 "/v1/a", "/v1/identify", "/beacon/v1/batch", "/v1/m", "/sourceConfig", "/v1/projects/wk/settings",
                 "/v1/alias"]
MIXPANEL_PATHS = ["/track/", "/engage/", "/groups/", "/import", "/track", "/decide", "/flags", "/record"]


def seed_vendor(out: pathlib.Path, url: str, headers: dict, body: bytes) -> bool:
    """Saves a Segment or Mixpanel request as its target's input; False when it is neither."""
    route, _, query = url.partition("?")
    if route in SEGMENT_PATHS:
        pick = SEGMENT_PATHS.index(route) | (0x10 if "authorization" in headers else 0)
        pick |= 0x40 if headers.get("content-encoding") == "gzip" else 0
        save(out / "segment_request", bytes([pick]) + body)
        return True
    if route in MIXPANEL_PATHS and "verbose=1" in query:
        pick = MIXPANEL_PATHS.index(route) | (1 << 3)
        pick |= 0x20 if "x-www-form-urlencoded" in headers.get("content-type", "") else 0
        save(out / "mixpanel_request", bytes([pick]) + body)
        return True
    return False


def save(folder: pathlib.Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main(fixtures: str, corpus: str) -> None:
    out = pathlib.Path(corpus)
    for path in sorted(pathlib.Path(fixtures).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            body = base64.b64decode(raw.get("body_b64") or "")
            url = raw.get("path", "")
            headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()} if isinstance(raw.get("headers"), dict) else {}
            if seed_vendor(out, url, headers, body):
                continue
            route, _, query = url.partition("?")
            route = route if route.endswith("/") or route.startswith("/i/v1") else route + "/"
            if route not in PATHS:
                continue
            pick = PATHS.index(route)
            if "lz64" in query:
                pick |= 2 << 3
                save(out / "lz64", body)
            elif "gzip" in query:
                pick |= 1 << 3
            headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()} if isinstance(raw.get("headers"), dict) else {}
            if "x-www-form-urlencoded" in headers.get("content-type", ""):
                pick |= 0x20
            save(out / "posthog_request", bytes([pick]) + body)
    # The model's inputs are 6-byte events: a few hand-written flows to start from.
    flows = [bytes([0, 1, 0, 0, 1, 5]) + bytes([12, 1, 3, 3, 1, 6]) + bytes([2, 1, 0, 0, 1, 7]),
             bytes([1, 2, 0, 1, 3, 1]) + bytes([13, 2, 7, 0, 3, 2]) + bytes([23, 2, 6, 0, 3, 3])]
    for flow in flows:
        save(out / "identity_model", flow)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
