// Timings of caudata-wasm next to libolm 3.2.15's own WebAssembly build, in one Node process,
// each operation on the messages of the other implementation (so every number is also an
// interop check). Reports the median and the 10th/90th percentiles of single operations.
//
//   node bindings/wasm/bench.mjs [iterations]      (after bindings/wasm/build.sh)

import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
// CAUDATA_WASM_PKG: another build of the package to time (e.g. one built at opt-level "s").
const caudata = require(process.env.CAUDATA_WASM_PKG ?? './pkg/caudata_wasm.js');
const Olm = require('@matrix-org/olm');
await Olm.init();

const N = Number(process.argv[2] ?? 5000);
const PLAINTEXT = JSON.stringify({
  type: 'm.room_key',
  content: { algorithm: 'm.megolm.v1.aes-sha2', room_id: '!room:example.org', session_id: 'x'.repeat(43) },
}); // ≈ 140 bytes, the size of a typical to-device payload

/** Runs `op(i)` n times after a warm-up; returns percentiles in µs. */
function time(n, op) {
  for (let i = 0; i < Math.min(200, n); i++) op(i, true);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    op(i, false);
    t[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  t.sort();
  const p = (q) => t[Math.min(n - 1, Math.floor(q * n))];
  return { median: p(0.5), p10: p(0.1), p90: p(0.9) };
}

const rows = [];
function row(name, impl, r) {
  rows.push({ operation: name, implementation: impl, 'median µs': r.median.toFixed(1), 'p10 µs': r.p10.toFixed(1), 'p90 µs': r.p90.toFixed(1) });
}

// ---- Olm: an established session between a caudata account and a libolm account.
const libAccount = new Olm.Account();
libAccount.create();
libAccount.generate_one_time_keys(1);
const libKeys = JSON.parse(libAccount.identity_keys());
const otk = Object.values(JSON.parse(libAccount.one_time_keys()).curve25519)[0];
const ours = new caudata.Account();
const cSession = ours.createOutboundSession(libKeys.curve25519, otk);
const first = cSession.encrypt('hello');
const lSession = new Olm.Session();
lSession.create_inbound_from(libAccount, ours.curve25519Key, first.body);
lSession.decrypt(first.type, first.body);
const reply = lSession.encrypt('hi');
cSession.decrypt(reply.type, reply.body);

// Same chain (no ratchet step): the symmetric cost, HKDF + HMAC + AES-CBC.
{
  const total = N + 200;
  const fromLib = Array.from({ length: total }, () => lSession.encrypt(PLAINTEXT));
  let k = 0;
  row('Olm decrypt (libolm → caudata), same chain', 'caudata-wasm', time(N, () => {
    const m = fromLib[k++];
    cSession.decrypt(m.type, m.body);
  }));
  const fromUs = [];
  row('Olm encrypt, same chain', 'caudata-wasm', time(N, (_, warm) => {
    const m = cSession.encrypt(PLAINTEXT);
    if (!warm) fromUs.push(m);
  }));
  // libolm's own numbers on the same operations, for comparison.
  let j = 0;
  row('Olm decrypt (caudata → libolm), same chain', 'libolm-wasm', time(Math.min(N, fromUs.length), (_, warm) => {
    if (warm) return;
    const m = fromUs[j++];
    lSession.decrypt(m.type, m.body);
  }));
}

// Ping-pong: every message starts a new chain (one X25519 key generation and two DH per
// round trip, as in a live 1:1 conversation).
{
  const n = Math.max(200, Math.floor(N / 10));
  row('Olm encrypt + decrypt round trip with ratchet steps', 'caudata-wasm ↔ libolm-wasm', time(n, () => {
    const a = cSession.encrypt(PLAINTEXT);
    lSession.decrypt(a.type, a.body);
    const b = lSession.encrypt(PLAINTEXT);
    cSession.decrypt(b.type, b.body);
  }));
}

// The same round trip within each implementation, for reference (the X25519 cost).
{
  const n = Math.max(200, Math.floor(N / 10));
  const b = new caudata.Account();
  b.generateOneTimeKeys(1);
  const x = ours.createOutboundSession(b.curve25519Key, Object.values(b.oneTimeKeys)[0]);
  const y = b.createInboundSession(ours.curve25519Key, x.encrypt('hi').body).session;
  row('Olm encrypt + decrypt round trip with ratchet steps', 'caudata-wasm ↔ caudata-wasm', time(n, () => {
    const m1 = x.encrypt(PLAINTEXT);
    y.decrypt(m1.type, m1.body);
    const m2 = y.encrypt(PLAINTEXT);
    x.decrypt(m2.type, m2.body);
  }));
  const la = new Olm.Account();
  la.create();
  const lb = new Olm.Account();
  lb.create();
  lb.generate_one_time_keys(1);
  const lx = new Olm.Session();
  lx.create_outbound(la, JSON.parse(lb.identity_keys()).curve25519, Object.values(JSON.parse(lb.one_time_keys()).curve25519)[0]);
  const first = lx.encrypt('hi');
  const ly = new Olm.Session();
  ly.create_inbound(lb, first.body);
  ly.decrypt(first.type, first.body);
  row('Olm encrypt + decrypt round trip with ratchet steps', 'libolm-wasm ↔ libolm-wasm', time(n, () => {
    const m1 = lx.encrypt(PLAINTEXT);
    ly.decrypt(m1.type, m1.body);
    const m2 = ly.encrypt(PLAINTEXT);
    lx.decrypt(m2.type, m2.body);
  }));
}

// libolm's encryption last: nobody decrypts these (they would exceed Olm's gap limit of 2000).
row('Olm encrypt, same chain', 'libolm-wasm', time(N, () => lSession.encrypt(PLAINTEXT)));

// ---- Megolm: libolm's outbound session, caudata's inbound (and libolm's inbound to compare).
{
  const out = new Olm.OutboundGroupSession();
  out.create();
  const key = out.session_key();
  const ourIn = new caudata.InboundGroupSession(key);
  const libIn = new Olm.InboundGroupSession();
  libIn.create(key);
  const msgs = Array.from({ length: N + 200 }, () => out.encrypt(PLAINTEXT));
  let k = 0;
  row('Megolm decrypt (libolm → caudata), sequential', 'caudata-wasm', time(N, () => {
    const d = ourIn.decrypt(msgs[k++]);
    assert.equal(d.plaintext.length, PLAINTEXT.length);
  }));
  k = 0;
  row('Megolm decrypt, sequential', 'libolm-wasm', time(N, () => libIn.decrypt(msgs[k++])));
  // Decrypting an old message again from the first known index (a fresh ratchet walk).
  const fresh = new caudata.InboundGroupSession(key);
  row('Megolm decrypt at a random index ≤ N (caudata)', 'caudata-wasm', time(Math.min(N, 1000), (i) => fresh.decrypt(msgs[(i * 7919) % N])));
  const ourOut = new caudata.GroupSession();
  row('Megolm encrypt', 'caudata-wasm', time(N, () => ourOut.encrypt(PLAINTEXT)));
  row('Megolm encrypt', 'libolm-wasm', time(N, () => out.encrypt(PLAINTEXT)));
}

console.log(`caudata-wasm ${caudata.version()} vs libolm ${Olm.get_library_version().join('.')} (WebAssembly), Node ${process.version}, ${N} iterations, ${PLAINTEXT.length}-byte plaintext`);
console.table(rows);
