// The package's own behaviour: the API shape, caudata ↔ caudata conversations, session
// configurations, errors as coded `Error`s (never WebAssembly traps) for every kind of bad
// input, and free().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caudata, assertCode, readText, pkgDir, toBase64, fromBase64 } from './common.mjs';

const CLASSES = ['Account', 'Session', 'GroupSession', 'InboundGroupSession', 'InterolmAccount', 'InterolmSession', 'PreKeyBundle'];

test('the package exports its classes and functions, with TypeScript declarations', () => {
  for (const c of CLASSES) assert.equal(typeof caudata[c], 'function', c);
  for (const f of ['ed25519Verify', 'errorCodes', 'version']) assert.equal(typeof caudata[f], 'function', f);
  const pkg = JSON.parse(readText(new URL(`${pkgDir}package.json`, import.meta.url)));
  assert.equal(pkg.main, 'caudata_wasm.js');
  assert.equal(pkg.version, caudata.version());
  const dts = readText(new URL(`${pkgDir}caudata_wasm.d.ts`, import.meta.url));
  for (const c of CLASSES) assert.match(dts, new RegExp(`export class ${c} `), c);
  assert.match(dts, /export interface OlmMessage \{ type: 0 \| 1; body: string \}/);
  assert.match(dts, /encrypt\(plaintext: string \| Uint8Array\): OlmMessage;/);
  assert.match(dts, /free\(\): void;/);
});

test('error codes are a fixed list of distinct strings', () => {
  const codes = caudata.errorCodes();
  assert.ok(codes.length >= 25);
  assert.equal(new Set(codes).size, codes.length);
  const dts = readText(new URL(`${pkgDir}caudata_wasm.d.ts`, import.meta.url));
  const union = dts.match(/export type ErrorCode =([^;]+);/)[1].match(/"([A-Z0-9_]+)"/g).map((s) => s.slice(1, -1));
  assert.deepEqual(union, codes, 'the TypeScript ErrorCode union lists exactly errorCodes()');
  for (const c of ['BAD_MAC', 'UNKNOWN_MESSAGE_INDEX', 'MISSING_MESSAGE_KEY', 'BAD_SIGNATURE', 'INVALID_BASE64', 'INVALID_ARGUMENT'])
    assert.ok(codes.includes(c), c);
});

test('Olm between two caudata accounts, session configurations 1 and 2', () => {
  for (const version of [1, 2]) {
    const alice = new caudata.Account();
    const bob = new caudata.Account();
    bob.generateOneTimeKeys(2);
    const otk = Object.values(bob.oneTimeKeys)[0];
    const out = alice.createOutboundSession(bob.curve25519Key, otk, version);
    assert.equal(out.version, version);
    const m = out.encrypt(new Uint8Array([0, 255, 1]));
    const { session, plaintext } = bob.createInboundSessionBytes(alice.curve25519Key, m.body, version);
    assert.deepEqual(plaintext, new Uint8Array([0, 255, 1]));
    const reply = session.encrypt('ok');
    assert.equal(out.decrypt(reply.type, reply.body), 'ok');
    const e = session.encrypt('é');
    assert.deepEqual(out.decryptBytes(e.type, e.body), new TextEncoder().encode('é'));
    if (version === 2) {
      // A version-2 message given to a version-1 account: refused as another session config.
      const bob1 = new caudata.Account();
      bob1.generateOneTimeKeys(1);
      const out2 = alice.createOutboundSession(bob1.curve25519Key, Object.values(bob1.oneTimeKeys)[0], 2);
      assertCode(() => bob1.createInboundSession(alice.curve25519Key, out2.encrypt('v2').body, 1), 'MISMATCHED_SESSION_CONFIG');
    }
  }
});

test('account keys: identity keys, one-time key generation and eviction, fallback keys', () => {
  const a = new caudata.Account();
  assert.deepEqual(a.identityKeys, { ed25519: a.ed25519Key, curve25519: a.curve25519Key });
  assert.match(a.curve25519Key, /^[A-Za-z0-9+/]{43}$/);
  // vodozemac's contract: 50 advertised for upload, up to 5 000 kept (claimed keys whose
  // pre-key message is still in flight survive top-ups), the oldest evicted beyond that.
  const max = a.maxNumberOfOneTimeKeys;
  assert.equal(max, 50);
  let g = a.generateOneTimeKeys(max + 3);
  assert.equal(g.created.length, max + 3);
  assert.equal(g.removed.length, 0);
  assert.equal(a.storedOneTimeKeyCount, max + 3);
  assert.equal(Object.keys(a.oneTimeKeys).length, max + 3);
  a.markKeysAsPublished();
  assert.deepEqual(a.oneTimeKeys, {});
  const oldest = g.created[0];
  g = a.generateOneTimeKeys(5000 - (max + 3) + 2);
  assert.equal(g.removed.length, 2);
  assert.equal(g.removed[0], oldest, 'the oldest key is evicted first');
  assert.equal(a.storedOneTimeKeyCount, 5000);
  a.generateFallbackKey();
  const first = Object.values(a.fallbackKey)[0];
  assert.equal(a.generateFallbackKey(), undefined);
  assert.equal(a.generateFallbackKey(), first, 'the previous-but-one fallback key is returned when forgotten');
  assert.equal(a.forgetFallbackKey(), true);
  assert.equal(a.forgetFallbackKey(), false);
});

test('Megolm between caudata sessions, versions 1 and 2', () => {
  for (const version of [1, 2]) {
    const out = new caudata.GroupSession(version);
    const inbound = new caudata.InboundGroupSession(out.sessionKey, version);
    assert.equal(inbound.version, version);
    for (let i = 0; i < 5; i++) assert.equal(inbound.decrypt(out.encrypt(`v${version} ${i}`)).plaintext, `v${version} ${i}`);
  }
  const v1 = new caudata.GroupSession(1);
  const wrong = new caudata.InboundGroupSession(v1.sessionKey, 2);
  assertCode(() => wrong.decrypt(v1.encrypt('x')), 'BAD_MAC_LENGTH');
});

test('Megolm decryptBatch: a room history at once, the same results and state as decrypt one by one', () => {
  const out = new caudata.GroupSession(1);
  const batch = new caudata.InboundGroupSession(out.sessionKey, 1);
  const single = new caudata.InboundGroupSession(out.sessionKey, 1);
  const history = [];
  for (let i = 0; i < 150; i++) history.push(out.encrypt(`message ${i}`));
  // A foreign message, a forged signature, undecodable base64 and a duplicate, mixed in.
  history.splice(10, 0, new caudata.GroupSession(1).encrypt('foreign'));
  const forged = history[20].slice(0, -2) + (history[20].endsWith('AA') ? 'AQ' : 'AA');
  history.splice(20, 0, forged);
  history.splice(30, 0, '%%%', history[5]);
  const results = batch.decryptBatch(history);
  assert.equal(results.length, history.length);
  let ok = 0;
  history.forEach((m, i) => {
    let expected;
    try {
      expected = single.decrypt(m);
    } catch (e) {
      assert.equal(results[i].name, 'CaudataError', `message ${i}`);
      assert.equal(results[i].code, e.code, `message ${i}`);
      return;
    }
    ok += 1;
    assert.deepEqual(results[i], expected, `message ${i}`);
  });
  assert.equal(ok, 151, 'the 150 honest messages and the duplicate');
  assert.deepEqual(batch.exportAt(0), single.exportAt(0));
});

test('bad input of every kind throws a coded CaudataError, never a trap', () => {
  const a = new caudata.Account();
  const b = new caudata.Account();
  b.generateOneTimeKeys(1);
  const otk = Object.values(b.oneTimeKeys)[0];
  const s = a.createOutboundSession(b.curve25519Key, otk);

  assertCode(() => a.createOutboundSession('not base64!', otk), 'INVALID_BASE64');
  assertCode(() => a.createOutboundSession('AAAA', otk), 'INVALID_KEY');
  assertCode(() => a.createOutboundSession(b.curve25519Key, 'A'.repeat(43)), 'NON_CONTRIBUTORY_KEY');
  assertCode(() => a.createOutboundSession(b.curve25519Key, otk, 3), 'INVALID_ARGUMENT');
  assertCode(() => s.encrypt(42), 'INVALID_ARGUMENT');
  assertCode(() => s.encrypt({}), 'INVALID_ARGUMENT');
  assertCode(() => s.decrypt(7, 'AAAA'), 'UNKNOWN_MESSAGE_TYPE');
  assertCode(() => s.decrypt(1, '%%%'), 'INVALID_BASE64');
  assertCode(() => s.decrypt(1, 'Aw'), 'DECODE_ERROR');
  assertCode(() => s.decrypt(1, 'AwoI'), 'DECODE_ERROR');
  assertCode(() => s.decrypt(1, toBase64([0x09, 1, 2])), 'UNSUPPORTED_VERSION');
  assertCode(() => new caudata.GroupSession(0), 'INVALID_ARGUMENT');
  assertCode(() => new caudata.GroupSession(257), 'INVALID_ARGUMENT');
  assertCode(() => new caudata.InboundGroupSession('AAAA'), 'INVALID_SESSION_KEY');
  assertCode(() => new caudata.InboundGroupSession('*'), 'INVALID_BASE64');
  assertCode(() => caudata.InboundGroupSession.import(new caudata.GroupSession().sessionKey), 'INVALID_SESSION_KEY');
  const out = new caudata.GroupSession();
  const key = fromBase64(out.sessionKey);
  key[key.length - 1] ^= 1;
  assertCode(() => new caudata.InboundGroupSession(toBase64(key)), 'BAD_SIGNATURE');
  const inbound = new caudata.InboundGroupSession(out.sessionKey);
  assertCode(() => inbound.decrypt('Aw'), 'DECODE_ERROR');
  assertCode(() => inbound.decrypt('AAAA'), 'UNSUPPORTED_VERSION');
  const m = fromBase64(out.encrypt('x'));
  m[10] ^= 1;
  assertCode(() => inbound.decrypt(toBase64(m)), 'BAD_SIGNATURE');
  assertCode(() => caudata.ed25519Verify(a.ed25519Key, 'm', 'AAAA'), 'INVALID_KEY');

  // Random garbage into every decoder: only coded errors, and the module keeps working.
  let seed = 99;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 300; i++) {
    const bytes = Uint8Array.from({ length: (i * 7) % 200 }, rnd);
    if (i % 2) bytes[0] = 3; // an Olm version byte, to go deeper
    const b64 = toBase64(bytes);
    for (const f of [
      () => s.decrypt(i % 2, b64),
      () => inbound.decrypt(b64),
      () => new caudata.InboundGroupSession(b64),
      () => caudata.InboundGroupSession.import(b64),
      () => caudata.PreKeyBundle.fromBytes(bytes),
      () => new caudata.InterolmAccount().createInboundSession(bytes),
    ]) {
      try {
        f();
      } catch (e) {
        assert.ok(!(e instanceof WebAssembly.RuntimeError), `trap: ${e}`);
        assert.equal(e.name, 'CaudataError', `${e}`);
        assert.ok(caudata.errorCodes().includes(e.code), e.code);
      }
    }
  }
  assert.equal(inbound.decrypt(out.encrypt('still fine')).plaintext, 'still fine');
});

test('invalid UTF-8 decodes with replacement characters in decrypt(); decryptBytes keeps the bytes', () => {
  const out = new caudata.GroupSession();
  const inbound = new caudata.InboundGroupSession(out.sessionKey);
  const m = out.encrypt(new Uint8Array([0x61, 0xff, 0x62]));
  assert.equal(inbound.decrypt(m).plaintext, 'a\ufffdb');
  assert.deepEqual(inbound.decryptBytes(m).plaintext, new Uint8Array([0x61, 0xff, 0x62]));
});

test('free() releases an object; using it afterwards throws a JavaScript Error', () => {
  const a = new caudata.Account();
  a.free();
  assert.throws(() => a.curve25519Key, Error);
  const g = new caudata.GroupSession();
  const key = g.sessionKey;
  g.free();
  const inbound = new caudata.InboundGroupSession(key);
  assert.equal(inbound.firstKnownIndex, 0);
  inbound.free();
});

test("README.md's example runs as written", () => {
  const { Account, GroupSession, InboundGroupSession } = caudata;
  const alice = new Account();
  const bob = new Account();
  bob.generateOneTimeKeys(1);
  const [otk] = Object.values(bob.oneTimeKeys);
  bob.markKeysAsPublished();
  const outbound = alice.createOutboundSession(bob.curve25519Key, otk);
  const message = outbound.encrypt('Hello, Bob');
  assert.equal(message.type, 0);
  const { session, plaintext } = bob.createInboundSession(alice.curve25519Key, message.body);
  assert.equal(plaintext, 'Hello, Bob');
  const reply = session.encrypt('Hi Alice');
  assert.equal(outbound.decrypt(reply.type, reply.body), 'Hi Alice');
  const room = new GroupSession();
  const member = new InboundGroupSession(room.sessionKey);
  assert.deepEqual(member.decrypt(room.encrypt('Hello, room')), { plaintext: 'Hello, room', messageIndex: 0 });
});
