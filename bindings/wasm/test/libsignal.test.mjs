// Live interolm conversations between caudata-wasm and @signalapp/libsignal-client in one Node
// process: X3DH with 0.72.1 (the last version that speaks it), PQXDH with 0.72.1 and 0.90.0,
// each in both directions (caudata processes libsignal's bundle, and libsignal processes
// caudata's), many messages with ratchet steps and out-of-order delivery.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caudata, loadLibsignal, SignalParty, assertCode, shuffled, utf8, fromUtf8 } from './helpers.mjs';

const CASES = [
  { lib: '0.72.1', pq: false },
  { lib: '0.72.1', pq: true },
  { lib: '0.90.0', pq: true },
];

/** Rounds of bursts each way, each burst delivered shuffled. */
async function converse(label, ours, theirs, rounds = 8) {
  let seed = 1;
  for (let r = 0; r < rounds; r++) {
    const toThem = [];
    for (let i = 0; i < 6; i++) toThem.push({ text: `${label} caudata→libsignal ${r}.${i}`, m: ours.encrypt(`${label} caudata→libsignal ${r}.${i}`) });
    for (const { text, m } of shuffled(toThem, seed++)) assert.equal(fromUtf8(await theirs.decrypt(m)), text);
    const toUs = [];
    for (let i = 0; i < 6; i++) toUs.push({ text: `${label} libsignal→caudata ${r}.${i}`, m: await theirs.encrypt(utf8(`${label} libsignal→caudata ${r}.${i}`)) });
    for (const { text, m } of shuffled(toUs, seed++)) assert.equal(fromUtf8(ours.decrypt(m.type, m.body)), text);
  }
}

for (const { lib, pq } of CASES) {
  const kind = pq ? 'PQXDH' : 'X3DH';

  test(`interolm ${kind}: caudata starts a session from a libsignal ${lib} bundle`, async () => {
    const L = await loadLibsignal(lib);
    const bob = new SignalParty(L, 'bob', { kyber: pq });
    const alice = new caudata.InterolmAccount();
    if (!pq) alice.allowX3dh(true);
    alice.registrationId = 4321;
    const bundle = bob.caudataBundle(caudata);
    bundle.verify();
    const session = alice.createOutboundSession(bundle);
    assert.equal(session.sessionVersion, pq ? 4 : 3);

    const first = session.encrypt('hello libsignal');
    assert.equal(first.type, 3);
    assert.equal(first.body[0], pq ? 0x44 : 0x34, 'the version byte');
    const peer = { encrypt: (pt) => bob.encrypt('alice', pt), decrypt: (m) => bob.decrypt('alice', m) };
    assert.equal(fromUtf8(await peer.decrypt(first)), 'hello libsignal');
    assert.deepEqual(session.remoteIdentityKey, new Uint8Array(bob.identity.publicKey.serialize()));
    await converse(`${kind} ${lib}`, session, peer);
    assert.equal(session.hasReceivedMessage, true);
  });

  test(`interolm ${kind}: libsignal ${lib} starts a session from a caudata bundle`, async () => {
    const L = await loadLibsignal(lib);
    const bob = new caudata.InterolmAccount();
    if (!pq) bob.allowX3dh(true);
    bob.generateSignedPreKey();
    bob.generateOneTimePreKeys(2);
    if (pq) bob.generateKyberPreKey(true);
    const bundle = caudata.PreKeyBundle.fromBytes(bob.preKeyBundle(1).toBytes());
    assert.equal(bundle.kyberPreKey?.length, pq ? 1569 : undefined);
    const alice = new SignalParty(L, 'alice', { kyber: true });
    await alice.processBundle('bob', bundle);

    // Two pre-key messages before any reply; the second arrives first.
    const m1 = await alice.encrypt('bob', utf8('first'));
    const m2 = await alice.encrypt('bob', utf8('second'));
    assert.equal(m1.type, 3);
    const { session, plaintext } = bob.createInboundSession(m2.body);
    assert.equal(fromUtf8(plaintext), 'second');
    assert.equal(session.sessionVersion, pq ? 4 : 3);
    assert.equal(session.remoteRegistrationId, alice.registrationId);
    assert.equal(session.matches(m1.body), true);
    assert.equal(fromUtf8(session.decrypt(m1.type, m1.body)), 'first');
    assert.equal(bob.oneTimePreKeyIds.length, 1, 'the used one-time prekey is consumed');
    // A replay of the creating message is refused now that the one-time prekey is gone.
    assertCode(() => bob.createInboundSession(m2.body), 'UNKNOWN_PRE_KEY');

    const peer = { encrypt: (pt) => alice.encrypt('bob', pt), decrypt: (m) => alice.decrypt('bob', m) };
    await converse(`${kind} ${lib} reverse`, session, peer);
  });
}

test('interolm: a replayed libsignal 0.90.0 pre-key message on a last-resort Kyber prekey is refused', async () => {
  const L = await loadLibsignal('0.90.0');
  const bob = new caudata.InterolmAccount();
  bob.generateSignedPreKey();
  bob.generateKyberPreKey(true);
  const bundle = bob.preKeyBundle(1);
  const alice = new SignalParty(L, 'alice', { kyber: true });
  await alice.processBundle('bob', bundle);
  const m = await alice.encrypt('bob', utf8('once only'));
  const { session, plaintext } = bob.createInboundSession(m.body);
  assert.equal(fromUtf8(plaintext), 'once only');
  // no one-time prekey was spent and the Kyber prekey is last-resort: only the record stops it
  assertCode(() => bob.createInboundSession(m.body), 'REPLAYED_PRE_KEY_MESSAGE');
  const peer = { encrypt: (pt) => alice.encrypt('bob', pt), decrypt: (m) => alice.decrypt('bob', m) };
  await converse('last-resort replay', session, peer, 2);
});

test('interolm: X3DH is refused unless allowed (downgrade protection), both directions', async () => {
  const L = await loadLibsignal('0.72.1');
  const bob = new SignalParty(L, 'bob', { kyber: false });
  const alice = new caudata.InterolmAccount();
  assertCode(() => alice.createOutboundSession(bob.caudataBundle(caudata)), 'X3DH_NOT_ALLOWED');

  const carol = new caudata.InterolmAccount();
  carol.generateSignedPreKey();
  const bundle = carol.preKeyBundle(1);
  const dave = new SignalParty(L, 'dave', { kyber: false });
  await dave.processBundle('carol', bundle);
  const m = await dave.encrypt('carol', utf8('x3dh'));
  assertCode(() => carol.createInboundSession(m.body), 'X3DH_NOT_ALLOWED');
});

test('interolm: a bundle with a bad signature is refused, and so is a tampered message', async () => {
  const L = await loadLibsignal('0.90.0');
  const bob = new SignalParty(L, 'bob');
  const parts = bob.bundleParts();
  const badSig = new Uint8Array(parts.signedPreKeySignature);
  badSig[5] ^= 1;
  const bad = new caudata.PreKeyBundle(
    parts.registrationId, parts.deviceId, parts.preKeyId, parts.preKey, parts.signedPreKeyId, parts.signedPreKey,
    badSig, parts.identityKey, parts.kyberPreKeyId, parts.kyberPreKey, parts.kyberPreKeySignature,
  );
  assertCode(() => bad.verify(), 'INVALID_BUNDLE');
  const alice = new caudata.InterolmAccount();
  assertCode(() => alice.createOutboundSession(bad), 'INVALID_BUNDLE');
  assertCode(
    () => new caudata.PreKeyBundle(1, 1, 5, undefined, 1, parts.signedPreKey, parts.signedPreKeySignature, parts.identityKey),
    'INVALID_ARGUMENT',
  );

  const session = alice.createOutboundSession(bob.caudataBundle(caudata));
  await bob.decrypt('alice', session.encrypt('hi'));
  const reply = await bob.encrypt('alice', utf8('reply'));
  const tampered = new Uint8Array(reply.body);
  tampered[tampered.length - 1] ^= 1;
  assertCode(() => session.decrypt(reply.type, tampered), 'BAD_MAC');
  assert.equal(fromUtf8(session.decrypt(reply.type, reply.body)), 'reply');
  assertCode(() => session.decrypt(reply.type, reply.body), 'MISSING_MESSAGE_KEY');
  assertCode(() => session.decrypt(1, reply.body), 'UNKNOWN_MESSAGE_TYPE');
});

test('interolm: one device, one key: an interolm account from an Olm account', () => {
  const olm = new caudata.Account();
  const signal = caudata.InterolmAccount.fromOlmAccount(olm);
  const key = signal.identityKey;
  assert.equal(key.length, 33);
  assert.equal(key[0], 0x05);
  assert.equal(Buffer.from(key.subarray(1)).toString('base64').replace(/=+$/, ''), olm.curve25519Key);
  assert.equal(signal.sign('x').length, 64);
});
