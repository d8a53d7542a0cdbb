// Files for `identity-inspector import` and `/api/import`, written as a stream so a large one never
// sits in this process's memory: every import kind (bundle, HAR, HAR zip, NDJSON, NDJSON.gz), either
// `events` ordinary PostHog events or a "bomb": one request whose body (or one line) is `bombMb`
// megabytes, which in the compressed kinds is a file of a few megabytes.
//
//   await writeImportFile('/tmp/x.ndjson.gz', 'ndjsongz', { events: 100_000, token: 'phc_imp' });
//   await writeImportFile('/tmp/x.zip', 'harzip', { bombMb: 1024 });

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import zlib from 'node:zlib';

export const IMPORT_KINDS = ['bundle', 'har', 'harzip', 'ndjson', 'ndjsongz'];
export const IMPORT_EXTENSIONS = {
  bundle: 'bundle',
  har: 'har',
  harzip: 'zip',
  ndjson: 'ndjson',
  ndjsongz: 'ndjson.gz',
};

const MB = 1 << 20;
const T0 = Date.UTC(2026, 0, 1);

/** A byte sink with backpressure: plain, or through gzip. */
function sink(file, gzip) {
  const out = createWriteStream(file);
  const head = gzip ? zlib.createGzip({ level: 1 }) : out;
  if (gzip) head.pipe(out);
  return {
    async write(chunk) {
      if (!head.write(chunk)) await once(head, 'drain');
    },
    async end() {
      head.end();
      await once(out, 'close');
    },
  };
}

/** Writes `size` bytes of `fill` through `write`, a megabyte at a time. */
async function writeFill(write, size, fill = 'a') {
  const chunk = Buffer.alloc(MB, fill);
  for (let left = size; left > 0; left -= MB) await write(left >= MB ? chunk : chunk.subarray(0, left));
}

/** Event `i` of an ordinary import: 100 users on 100 devices, a pageview or an identify. */
function event(i, token) {
  const user = i % 100;
  return {
    uuid: `0190${(i >>> 16).toString(16).padStart(4, '0')}-${(i & 0xffff).toString(16).padStart(4, '0')}-7000-8000-${token.length.toString(16).padStart(12, '0')}`,
    event: i % 50 === 0 ? '$identify' : '$pageview',
    distinct_id: `import-user-${user}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    properties: {
      $device_id: `import-device-${user}`,
      $anon_distinct_id: `import-anon-${user}`,
      $current_url: `https://app.example.com/page/${i % 40}`,
    },
    api_key: token,
  };
}

const BATCH = 100;

/** The text before and after the huge string of the bomb event (an event with a huge property). */
function bombEvent(token) {
  const e = JSON.stringify({ ...event(1, token), event: 'bomb', properties: { big: '\u0000' } });
  return e.split('\\u0000');
}

/** The text before and after the huge string of a `/batch/` body holding the bomb event. */
function bombBatch(token) {
  const [open, close] = bombEvent(token);
  return [`{"api_key":${JSON.stringify(token)},"batch":[${open}`, `${close}]}`];
}

/** Writes the bomb `/batch/` body through `write` (a HAR zip's attachment). */
async function writeBombBody(write, mb, token) {
  const [open, close] = bombBatch(token);
  await write(open);
  await writeFill(write, mb * MB);
  await write(close);
}

/** base64 of `text` padded with JSON whitespace to whole 3-byte groups, so pieces concatenate. */
function base64(text, pad = 'end') {
  const spaces = ' '.repeat((3 - (Buffer.byteLength(text) % 3)) % 3);
  return Buffer.from(pad === 'end' ? text + spaces : spaces + text).toString('base64');
}

/** The `/batch/` bodies of `events` ordinary events, `BATCH` at a time, with their uuids. */
function* batches(events, token) {
  for (let i = 0; i < events; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(events, i + BATCH); j++) batch.push(event(j, token));
    yield { at: new Date(T0 + i * 1000).toISOString(), body: JSON.stringify({ api_key: token, batch }), batch };
  }
}

const harEntry = (at, bodyJson, postData) =>
  `{"startedDateTime":${JSON.stringify(at)},"request":{"method":"POST","url":"http://127.0.0.1:8010/batch/",` +
  `"httpVersion":"HTTP/1.1","headers":[{"name":"content-type","value":"application/json"}],"queryString":[],` +
  `"postData":${postData ?? `{"mimeType":"application/json","text":${JSON.stringify(bodyJson)}}`}},` +
  `"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"content":{"size":0,"mimeType":"application/json"}}}`;
const HAR_HEAD = '{"log":{"version":"1.2","creator":{"name":"pressure","version":"1"},"entries":[';
const HAR_TAIL = ']}}\n';

async function writeNdjson(out, { events, bombMb, token }) {
  if (bombMb) {
    // A first line of the usual size: the format is named from it.
    await out.write(`${JSON.stringify(event(0, token))}\n`);
    const [open, close] = bombEvent(token);
    await out.write(open);
    await writeFill(out.write, bombMb * MB);
    await out.write(`${close}\n`);
    return;
  }
  for (let i = 0; i < events; i++) await out.write(`${JSON.stringify(event(i, token))}\n`);
}

async function writeBundle(out, { events, bombMb, token }) {
  const requests = bombMb ? 1 : Math.ceil(events / BATCH);
  const header = { format: 'identity-inspector-bundle', version: 1, selection: {}, counts: { requests, events } };
  if (bombMb) header.counts.events = 0;
  await out.write(`${JSON.stringify(header)}\n`);
  const line = (at, base64Writer, uuids) => [
    `{"type":"request","received_at":${JSON.stringify(at)},"method":"POST","path":"/batch/","headers":[["content-type","application/json"]],"body_base64":"`,
    base64Writer,
    `","outcome":"accepted","status":200,"event_uuids":${JSON.stringify(uuids)}}\n`,
  ];
  if (bombMb) {
    // The body in base64: "YWFh" is "aaa", so the huge string is written four bytes at a time.
    const [open, , close] = line(new Date(T0).toISOString(), null, []);
    await out.write(open);
    const [bodyOpen, bodyClose] = bombBatch(token);
    await out.write(base64(bodyOpen, 'start'));
    await writeFill(out.write, Math.ceil((bombMb * MB) / 4) * 4, 'YWFh');
    await out.write(base64(bodyClose, 'end'));
    await out.write(close);
  } else
    for (const { at, body, batch } of batches(events, token)) {
      const [open, , close] = line(
        at,
        null,
        batch.map((e) => e.uuid),
      );
      await out.write(open + Buffer.from(body).toString('base64') + close);
    }
  await out.write(`${JSON.stringify({ type: 'end', requests, events: bombMb ? 0 : events })}\n`);
}

async function writeHar(out, { events, bombMb, token }, attached) {
  await out.write(HAR_HEAD);
  if (bombMb && attached) {
    await out.write(harEntry(new Date(T0).toISOString(), null, '{"mimeType":"application/json","_file":"body.bin"}'));
  } else if (bombMb) {
    const [open, close] = harEntry(new Date(T0).toISOString(), '\u0001').split('\\u0001');
    await out.write(open);
    // The body is the text of a JSON string here: its quotes are escaped.
    const [bodyOpen, bodyClose] = bombBatch(token).map((t) => JSON.stringify(t).slice(1, -1));
    await out.write(bodyOpen);
    await writeFill(out.write, bombMb * MB);
    await out.write(bodyClose);
    await out.write(close);
  } else {
    let first = true;
    for (const { at, body } of batches(events, token)) {
      await out.write((first ? '' : ',') + harEntry(at, body));
      first = false;
    }
  }
  await out.write(HAR_TAIL);
}

/** Collects what `fill` writes, deflated, with its CRC-32 and size (a zip entry). */
async function deflated(fill) {
  const deflate = zlib.createDeflateRaw({ level: 6 });
  const parts = [];
  deflate.on('data', (c) => parts.push(c));
  let crc = 0;
  let size = 0;
  await fill(async (chunk) => {
    const buf = Buffer.from(chunk);
    crc = zlib.crc32(buf, crc);
    size += buf.length;
    if (!deflate.write(buf)) await once(deflate, 'drain');
  });
  deflate.end();
  await once(deflate, 'end');
  return { data: Buffer.concat(parts), crc, size };
}

/** A zip (deflate, no zip64: every entry under 4 GB) of `entries` [{ name, fill }]. */
async function writeZip(file, entries) {
  const out = createWriteStream(file);
  const central = [];
  let offset = 0;
  const put = async (buf) => {
    if (!out.write(buf)) await once(out, 'drain');
    offset += buf.length;
  };
  for (const { name, fill } of entries) {
    const { data, crc, size } = await deflated(fill);
    if (size >= 2 ** 32) throw new Error(`zip entry ${name} is ${size} bytes: this writer has no zip64`);
    const nameBuf = Buffer.from(name);
    const fields = (h, at) => {
      h.writeUInt16LE(20, at); // version needed
      h.writeUInt16LE(0, at + 2); // flags
      h.writeUInt16LE(8, at + 4); // deflate
      h.writeUInt16LE(0, at + 6); // time
      h.writeUInt16LE(0x21, at + 8); // date: 1980-01-01
      h.writeUInt32LE(crc >>> 0, at + 10);
      h.writeUInt32LE(data.length, at + 14);
      h.writeUInt32LE(size, at + 18);
      h.writeUInt16LE(nameBuf.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4); // version made by
    fields(cd, 6);
    cd.writeUInt32LE(offset, 42);
    central.push(Buffer.concat([cd, nameBuf]));
    await put(Buffer.concat([local, nameBuf]));
    await put(data);
  }
  const cdStart = offset;
  for (const c of central) await put(c);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(offset - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  await put(end);
  out.end();
  await once(out, 'close');
}

/**
 * Writes an import file of `kind` (one of IMPORT_KINDS) to `file`: `events` ordinary events, or
 * with `bombMb` one body or line of that many megabytes. Returns `file`.
 */
export async function writeImportFile(file, kind, { events = 1_000, bombMb = 0, token = 'phc_import' } = {}) {
  const spec = { events, bombMb, token };
  if (kind === 'harzip') {
    const entries = [{ name: 'har.har', fill: (write) => writeHar({ write }, spec, true) }];
    if (bombMb) entries.push({ name: 'body.bin', fill: (write) => writeBombBody(write, bombMb, token) });
    await writeZip(file, entries);
    return file;
  }
  const out = sink(file, kind === 'bundle' || kind === 'ndjsongz');
  if (kind === 'bundle') await writeBundle(out, spec);
  else if (kind === 'har') await writeHar(out, spec, false);
  else if (kind === 'ndjson' || kind === 'ndjsongz') await writeNdjson(out, spec);
  else throw new Error(`unknown import kind ${kind}`);
  await out.end();
  return file;
}
