// Live conversations between caudata-wasm and libolm 3.2.15's own WebAssembly build
// (@matrix-org/olm), in one Node process: Olm both directions with many messages, out of
// order and across ratchet steps; fallback keys; signatures; Megolm session keys and exports
// both ways.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caudata, loadOlm, assertCode, shuffled, firstEntry, toBase64, fromBase64 } from './common.mjs';

const Olm = await loadOlm();

function libolmAccount(otks = 1) {
  const a = new Olm.Account();
  a.create();
  a.generate_one_time_keys(otks);
  return a;
}
const libolmKeys = (a) => JSON.parse(a.identity_keys());
const libolmOtk = (a) => firstEntry(JSON.parse(a.one_time_keys()).curve25519).key;

/** Sends `n` messages from `send` and delivers them to `recv` in a shuffled order. */
function burst(label, n, send, recv, seed) {
  const sent = [];
  for (let i = 0; i < n; i++) sent.push({ text: `${label} ${i} ✓`, m: send(`${label} ${i} ✓`) });
  for (const { text, m } of shuffled(sent, seed)) assert.equal(recv(m), text);
}

test('Olm: caudata starts a session to a libolm account; 200 messages, out of order, both ways', () => {
  const bob = libolmAccount();
  const alice = new caudata.Account();
  const out = alice.createOutboundSession(libolmKeys(bob).curve25519, libolmOtk(bob));

  const first = out.encrypt('Hello, libolm');
  assert.equal(first.type, 0);
  const inbound = new Olm.Session();
  inbound.create_inbound_from(bob, alice.curve25519Key, first.body);
  bob.remove_one_time_keys(inbound);
  assert.equal(inbound.decrypt(first.type, first.body), 'Hello, libolm');
  assert.equal(inbound.session_id(), out.sessionId);

  let seed = 7;
  for (let round = 0; round < 10; round++) {
    burst(`bob→alice r${round}`, 10, (t) => inbound.encrypt(t), (m) => out.decrypt(m.type, m.body), seed++);
    burst(`alice→bob r${round}`, 10, (t) => out.encrypt(t), (m) => inbound.decrypt(m.type, m.body), seed++);
  }
  assert.equal(out.hasReceivedMessage, true);
  inbound.free();
  bob.free();
  out.free();
  alice.free();
});

test('Olm: libolm starts a session to a caudata account; messages held back across ratchet steps', () => {
  const bob = new caudata.Account();
  bob.generateOneTimeKeys(3);
  const otk = Object.values(bob.oneTimeKeys)[1];
  bob.markKeysAsPublished();
  const alice = libolmAccount(0);
  const out = new Olm.Session();
  out.create_outbound(alice, bob.curve25519Key, otk);

  // Three pre-key messages; the second arrives first and creates the session.
  const pre = [0, 1, 2].map((i) => out.encrypt(`pre-key ${i}`));
  assert.ok(pre.every((m) => m.type === 0));
  const { session, plaintext } = bob.createInboundSession(libolmKeys(alice).curve25519, pre[1].body);
  assert.equal(plaintext, 'pre-key 1');
  assert.equal(session.sessionId, out.session_id());
  assert.equal(session.matches(pre[0].type, pre[0].body), true);
  assert.equal(bob.storedOneTimeKeyCount, 2, 'the used one-time key is gone');
  assert.equal(session.decrypt(pre[2].type, pre[2].body), 'pre-key 2');
  assert.equal(session.decrypt(pre[0].type, pre[0].body), 'pre-key 0');

  // Messages of older chains delivered after newer ones: the last four chains are still
  // known (both libraries keep 5 receiving chains); a message from 20 chains back is refused.
  const held = [];
  let tooOld;
  for (let round = 0; round < 20; round++) {
    const fromBob = session.encrypt(`bob ${round}`);
    assert.equal(out.decrypt(fromBob.type, fromBob.body), `bob ${round}`);
    const a = out.encrypt(`alice ${round}a`);
    const b = out.encrypt(`alice ${round}b`);
    if (round === 0) tooOld = b;
    if (round >= 16) held.push({ m: b, text: `alice ${round}b` });
    assert.equal(session.decrypt(a.type, a.body), `alice ${round}a`);
  }
  for (const { m, text } of shuffled(held, 3)) assert.equal(session.decrypt(m.type, m.body), text);
  assertCode(() => session.decrypt(tooOld.type, tooOld.body), 'UNEXPECTED_RATCHET_KEY');

  // A replay and a tampered message are refused, and the session still works afterwards.
  assertCode(() => session.decrypt(held[0].m.type, held[0].m.body), 'MISSING_MESSAGE_KEY');
  const next = out.encrypt('after the errors');
  const body = fromBase64(next.body);
  body[body.length - 1] ^= 1;
  assertCode(() => session.decrypt(next.type, toBase64(body).replace(/=+$/, '')), 'BAD_MAC');
  assert.equal(session.decrypt(next.type, next.body), 'after the errors');
  session.free();
  out.free();
  alice.free();
  bob.free();
});

test('Olm: sessions on fallback keys, both directions', () => {
  // caudata → libolm's fallback key
  const bob = new Olm.Account();
  bob.create();
  bob.generate_fallback_key();
  const fallback = firstEntry(JSON.parse(bob.unpublished_fallback_key()).curve25519).key;
  const alice = new caudata.Account();
  const out = alice.createOutboundSession(libolmKeys(bob).curve25519, fallback);
  const m = out.encrypt('to the fallback key');
  const s = new Olm.Session();
  s.create_inbound_from(bob, alice.curve25519Key, m.body);
  assert.equal(s.decrypt(0, m.body), 'to the fallback key');

  // libolm → caudata's fallback key (used twice: fallback keys are not consumed)
  const carol = new caudata.Account();
  assert.equal(carol.generateFallbackKey(), undefined);
  const carolFallback = Object.values(carol.fallbackKey)[0];
  carol.markKeysAsPublished();
  assert.deepEqual(carol.fallbackKey, {});
  for (const i of [1, 2]) {
    const dave = libolmAccount(0);
    const o = new Olm.Session();
    o.create_outbound(dave, carol.curve25519Key, carolFallback);
    const pm = o.encrypt(`fallback ${i}`);
    const r = carol.createInboundSession(libolmKeys(dave).curve25519, pm.body);
    assert.equal(r.plaintext, `fallback ${i}`);
    const reply = r.session.encrypt(`reply ${i}`);
    assert.equal(reply.type, 1);
    assert.equal(o.decrypt(reply.type, reply.body), `reply ${i}`);
  }
});

test('Olm: creating a session with the wrong identity key or an unknown one-time key fails cleanly', () => {
  const bob = new caudata.Account();
  bob.generateOneTimeKeys(1);
  const otk = Object.values(bob.oneTimeKeys)[0];
  const alice = libolmAccount(0);
  const out = new Olm.Session();
  out.create_outbound(alice, bob.curve25519Key, otk);
  const pm = out.encrypt('x');
  assertCode(() => bob.createInboundSession(new caudata.Account().curve25519Key, pm.body), 'MISMATCHED_IDENTITY_KEY');
  bob.removeOneTimeKey(otk);
  assertCode(() => bob.createInboundSession(libolmKeys(alice).curve25519, pm.body), 'MISSING_ONE_TIME_KEY');
});

test('Ed25519 signatures verify across implementations', () => {
  const util = new Olm.Utility();
  const ours = new caudata.Account();
  const msg = '{"algorithms":["m.olm.v1.curve25519-aes-sha2"],"device_id":"DEV"}';
  util.ed25519_verify(ours.ed25519Key, msg, ours.sign(msg));
  const theirs = libolmAccount(0);
  const sig = theirs.sign(msg);
  caudata.ed25519Verify(libolmKeys(theirs).ed25519, msg, sig);
  assertCode(() => caudata.ed25519Verify(libolmKeys(theirs).ed25519, msg + ' ', sig), 'BAD_SIGNATURE');
  const bytes = new TextEncoder().encode(msg);
  assert.equal(ours.sign(bytes), ours.sign(msg), 'a string is signed as its UTF-8 bytes');
});

test('Megolm: caudata outbound → libolm inbound, 300 messages out of order, late joiner', () => {
  const out = new caudata.GroupSession();
  const inbound = new Olm.InboundGroupSession();
  inbound.create(out.sessionKey);
  assert.equal(inbound.session_id(), out.sessionId);
  const msgs = [];
  for (let i = 0; i < 300; i++) msgs.push({ i, m: out.encrypt(`group ${i}`) });
  // A member who joins at index 150.
  const late = new Olm.InboundGroupSession();
  late.create(out.sessionKey);
  for (const { i, m } of shuffled(msgs, 11)) {
    const d = inbound.decrypt(m);
    assert.equal(d.plaintext, `group ${i}`);
    assert.equal(d.message_index, i);
  }
  assert.equal(late.first_known_index(), 300);
  assert.equal(out.messageIndex, 300);
});

test('Megolm: libolm outbound → caudata inbound, out of order; unknown index and tampering refused', () => {
  const out = new Olm.OutboundGroupSession();
  out.create();
  const early = out.encrypt('before the key');
  const inbound = new caudata.InboundGroupSession(out.session_key());
  assert.equal(inbound.sessionId, out.session_id());
  assert.equal(inbound.firstKnownIndex, 1);
  assert.equal(inbound.signingKeyVerified, true);
  const msgs = [];
  for (let i = 1; i <= 300; i++) msgs.push({ i, m: out.encrypt(`from libolm ${i}`) });
  for (const { i, m } of shuffled(msgs, 5)) {
    const d = inbound.decrypt(m);
    assert.deepEqual(d, { plaintext: `from libolm ${i}`, messageIndex: i });
  }
  assertCode(() => inbound.decrypt(early), 'UNKNOWN_MESSAGE_INDEX');
  const m = fromBase64(out.encrypt('signed'));
  m[m.length - 1] ^= 0x40; // inside the signature
  assertCode(() => inbound.decrypt(toBase64(m)), 'BAD_SIGNATURE');
  const bytes = inbound.decryptBytes(msgs[0].m);
  assert.ok(bytes.plaintext instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(bytes.plaintext), 'from libolm 1');
});

test('Megolm: exports both ways (libolm export → caudata import, caudata export → libolm import)', () => {
  const out = new Olm.OutboundGroupSession();
  out.create();
  const libIn = new Olm.InboundGroupSession();
  libIn.create(out.session_key());
  const msgs = Array.from({ length: 40 }, (_, i) => out.encrypt(`m${i}`));

  const imported = caudata.InboundGroupSession.import(libIn.export_session(10));
  assert.equal(imported.firstKnownIndex, 10);
  assert.equal(imported.signingKeyVerified, false);
  assert.equal(imported.decrypt(msgs[25]).plaintext, 'm25');
  assertCode(() => imported.decrypt(msgs[9]), 'UNKNOWN_MESSAGE_INDEX');

  const back = new Olm.InboundGroupSession();
  back.import_session(imported.exportAt(20));
  assert.equal(back.first_known_index(), 20);
  assert.equal(back.decrypt(msgs[39]).plaintext, 'm39');
  assert.equal(imported.exportAt(5), undefined);

  // The verified copy (from the session key) and the imported one are the same session.
  const verified = new caudata.InboundGroupSession(out.session_key());
  assert.equal(verified.connected(imported), true);
  const merged = verified.merge(imported);
  assert.equal(merged.signingKeyVerified, true);
  assert.equal(merged.firstKnownIndex, 10);
  assert.equal(imported.compare(caudata.InboundGroupSession.import(libIn.export_session(0))), 'worse');
  assert.equal(imported.exportAtFirstKnownIndex(), libIn.export_session(10));
});
