// posthog-js-like traffic for the UI benchmark: `devices` browsers over the last 7 days, each a
// pure function of (device, index) so 1 000 000 events never sit in memory at once.
//
// Device plans (by device number): anonymous only (30%); identify, sometimes reset later (50%);
// identify then a second user without reset (10%, "missing reset"); identify → reset → identify
// (5%); an email as distinct id (5%). Users repeat across devices (same person, several lanes).

const DAY = 86_400_000;
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
];
const NAMES = ['Product Viewed', 'Added to Cart', 'Checkout Started', 'Order Completed', 'Search', '$autocapture'];

/** A small deterministic hash → [0, 1). */
function rand(a, b = 0) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

const hex = (n, w) => n.toString(16).padStart(w, '0');
const anonId = (d, k) => `019a${hex(k, 4)}-${hex(d >>> 16, 4)}-7${hex(d & 0xfff, 3)}-8000-${hex(d * 7919 + k, 12)}`;

export function plan(d) {
  const p = d % 20;
  const kind =
    p < 6 ? 'anonymous' : p < 16 ? 'identify' : p < 18 ? 'switch' : p < 19 ? 'identify-reset-identify' : 'email';
  return {
    kind,
    user: `user-${d % 7000}`,
    other: `user-${(d * 31 + 11) % 7000}`,
    resets: kind === 'identify' && d % 4 === 0,
  };
}

/** Client timestamp (ms) of event `i` of device `d`; increasing in `i`. */
export function timeOf(d, i, perDevice, end) {
  const start = end - 7 * DAY + rand(d, 1) * 6 * DAY;
  const gap = 5_000 + rand(d, 2) * 170_000;
  return Math.floor(start + i * gap + rand(d, i + 3) * gap * 0.5);
}

/** Event `i` of device `d`, as posthog-js would send it. */
export function eventOf(d, i, perDevice, end, token) {
  const { kind, user, other, resets } = plan(d);
  const identifyAt = Math.floor(perDevice * 0.3);
  const laterAt = Math.floor(perDevice * 0.65);
  const anon1 = anonId(d, 0);
  const anon2 = anonId(d, 1);
  let distinctId = anon1;
  let event = rand(d, i + 100) < 0.6 ? '$pageview' : NAMES[Math.floor(rand(d, i + 200) * NAMES.length)];
  const properties = {};
  let identified = false;
  const identity = kind === 'email' ? `${user}@example.com` : user;
  if (kind !== 'anonymous' && i >= identifyAt) {
    distinctId = identity;
    identified = true;
    if (i === identifyAt) {
      event = '$identify';
      properties.$anon_distinct_id = anon1;
      properties.$set = { email: `${user}@example.com`, plan: rand(d, 5) < 0.5 ? 'free' : 'pro' };
    }
    if (i >= laterAt) {
      if (kind === 'switch') distinctId = other;
      else if (resets) {
        distinctId = anon2;
        identified = false;
      } else if (kind === 'identify-reset-identify') {
        distinctId = i === laterAt ? anon2 : other;
        identified = i !== laterAt;
        if (i === laterAt + 1) {
          event = '$identify';
          properties.$anon_distinct_id = anon2;
        }
      }
    }
    if (identified && event === 'Order Completed') properties.$set = { last_order: i };
  }
  if (!identified) properties.$process_person_profile = false;
  return {
    uuid: `019a${hex(d & 0xffff, 4)}-${hex(i, 4)}-7000-8000-${hex(d, 12)}`,
    event,
    distinct_id: distinctId,
    timestamp: new Date(timeOf(d, i, perDevice, end)).toISOString(),
    properties: {
      ...properties,
      token,
      $device_id: `${hex(d, 8)}-dev0-4000-8000-${hex((d * 2654435761) >>> 0, 12)}`,
      $session_id: `019a-sess-${d}-${Math.floor(i / 20)}`,
      $raw_user_agent: UAS[d % UAS.length],
      $current_url: `https://shop.example.com/${event === '$pageview' ? `p/${i % 40}` : 'app'}`,
      $lib: 'web',
      $lib_version: '1.449.2',
      $is_identified: identified,
    },
  };
}
