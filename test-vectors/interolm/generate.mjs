#!/usr/bin/env node
// Regenerates the interolm known-answer vectors in this folder from real libsignal:
//
//   bash interop/libsignal/setup.sh && node test-vectors/interolm/generate.mjs
//
// (run from the repository root; `--only NAME` makes just the file whose name contains NAME).
// Each run makes new random keys, so the files change completely; they are consistent within
// themselves, and every run re-checks them (see `checks` in each file) with an independent
// computation (node:crypto, plus the pure-JS Kyber1024 of npm crystals-kyber) of the X3DH/PQXDH
// secret, the root steps, the message keys and the MACs.
// libsignal is driven through its public npm API only, by interop/libsignal/peer.mjs.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createPeer, parseMessage } from '../../interop/libsignal/peer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REGEN = 'bash interop/libsignal/setup.sh && node test-vectors/interolm/generate.mjs';
const today = new Date().toISOString().slice(0, 10);
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx >= 0 ? process.argv[onlyIdx + 1] : null;

const peer = createPeer();
async function call(req) {
  const r = await peer.handle(req);
  if (!r.ok) throw new Error(`${req.cmd} failed: ${r.error}`);
  delete r.ok;
  return r;
}

const utf8hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const B = (hex) => Buffer.from(hex, 'hex');

// ---------------------------------------------------------------------------------------------
// Independent re-computation (node:crypto), used to check what libsignal recorded.

function x25519(privHex, pubHex) {
  // libsignal serializes private keys as the 32-byte scalar, public keys as 0x05 ‖ u.
  const pub = B(pubHex);
  if (pub.length !== 33 || pub[0] !== 0x05) throw new Error('bad public key');
  const d = B(privHex).toString('base64url');
  const x = pub.subarray(1).toString('base64url');
  const priv = crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: x }, format: 'jwk' });
  const pubKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  return crypto.diffieHellman({ privateKey: priv, publicKey: pubKey });
}

function x25519Public(privHex) {
  const key = crypto.createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), B(privHex)]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = key.export({ format: 'jwk' });
  return '05' + Buffer.from(jwk.x, 'base64url').toString('hex');
}

// Kyber1024 round 3 (not ML-KEM), as libsignal's 0x08 keys are. Keys and ciphertext lose their
// type byte here.
const requireHere = createRequire(new URL('../../interop/libsignal/package.json', import.meta.url));
function kyberDecapsulate(ctHex, skHex) {
  const { Decrypt1024 } = requireHere('crystals-kyber');
  const ct = B(ctHex);
  const sk = B(skHex);
  if (ct[0] !== 0x08 || ct.length !== 1569 || sk[0] !== 0x08 || sk.length !== 3169) throw new Error('bad kyber key/ciphertext');
  return Buffer.from(Decrypt1024(Uint8Array.from(ct.subarray(1)), Uint8Array.from(sk.subarray(1))));
}

const hkdf = (ikm, salt, info, len) => Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from(info), len));
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function messageKeys(chainKeyHex, salt = Buffer.alloc(32)) {
  const seed = hmac(B(chainKeyHex), Buffer.from([0x01]));
  const okm = hkdf(seed, salt, 'WhisperMessageKeys', 80);
  return { cipher_key: okm.subarray(0, 32), mac_key: okm.subarray(32, 64), iv: okm.subarray(64, 80) };
}

const nextChainKey = (ckHex) => hmac(B(ckHex), Buffer.from([0x02])).toString('hex');

function advance(ckHex, from, to) {
  let ck = ckHex;
  for (let i = from; i < to; i++) ck = nextChainKey(ck);
  return ck;
}

// ---------------------------------------------------------------------------------------------
// One conversation

function stripKyber(bundle) {
  const b = { ...bundle };
  delete b.kyber_pre_key_id;
  delete b.kyber_pre_key;
  delete b.kyber_pre_key_signature;
  return b;
}

function stripOpk(bundle) {
  const b = { ...bundle };
  delete b.pre_key_id;
  delete b.pre_key;
  return b;
}

async function snapshot(p, peerName) {
  const s = await call({ cmd: 'session_state', p, peer_name: peerName, peer_device_id: 1 });
  if (!s.record) return null;
  return { state: s.state, decoded: s.decoded.current_session, previous_sessions: s.decoded.previous_sessions.length, record: s.record };
}

async function conversation({ libAlice, libBob, kyber, opk, comment, file, title }) {
  const tag = file.replace(/\.json$/, '');
  const A = `alice:${tag}`;
  const Bp = `bob:${tag}`;
  const alice = await call({ cmd: 'new_party', p: A, lib: libAlice, name: 'alice', device_id: 1, registration_id: 4321 });
  const bob = await call({ cmd: 'new_party', p: Bp, lib: libBob, name: 'bob', device_id: 1, registration_id: 8765 });
  let bundle = bob.bundle;
  if (!kyber) bundle = stripKyber(bundle);
  if (!opk) bundle = stripOpk(bundle);

  const steps = [];
  const messages = [];
  const record = async (n, actor, action, extra = {}) => {
    steps.push({
      step: n,
      actor,
      action,
      ...extra,
      alice: await snapshot(A, 'bob'),
      bob: await snapshot(Bp, 'alice'),
    });
  };

  let n = 0;
  await call({ cmd: 'process_bundle', p: A, peer_name: 'bob', peer_device_id: 1, bundle });
  await record(n++, 'alice', 'process_bundle');

  const send = async (from, fromName, to, toName, text) => {
    const before = steps.at(-1)[fromName];
    const pt = utf8hex(text);
    const m = await call({ cmd: 'encrypt', p: from, peer_name: toName, peer_device_id: 1, pt });
    const parsed = parseMessage(m.type, B(m.body));
    const msg = {
      index: messages.length,
      from: fromName,
      to: toName,
      type: m.type,
      type_name: m.type === 3 ? 'PreKeySignalMessage' : 'SignalMessage',
      version_byte: `0x${m.body.slice(0, 2)}`,
      body: m.body,
      plaintext: pt,
      plaintext_utf8: text,
      parsed,
      sender_chain_key_before: before.state.sender_chain_key,
      sender_chain_index_before: before.state.sender_chain_index,
    };
    messages.push(msg);
    await record(n++, fromName, 'encrypt', { message: msg.index });
    const d = await call({ cmd: 'decrypt', p: to, peer_name: fromName, peer_device_id: 1, type: m.type, body: m.body });
    if (d.pt !== pt) throw new Error('plaintext mismatch');
    await record(n++, toName, 'decrypt', { message: msg.index });
    return msg;
  };

  await send(A, 'alice', Bp, 'bob', 'alice to bob #1');
  await send(A, 'alice', Bp, 'bob', 'alice to bob #2');
  await send(Bp, 'bob', A, 'alice', 'bob to alice #1');
  await send(Bp, 'bob', A, 'alice', 'bob to alice #2');
  await send(A, 'alice', Bp, 'bob', 'alice to bob #3 (after the first turn)');

  const bobExport = await call({ cmd: 'export_party', p: Bp });

  const vector = {
    _comment: [
      title,
      `Made by real libsignal (npm @signalapp/libsignal-client ${libAlice === libBob ? libAlice : `alice ${libAlice}, bob ${libBob}`}, prebuilt linux-x64 module, Node ${process.versions.node}) driven through its public API by interop/libsignal/peer.mjs, on ${today}.`,
      `Regenerate (from the repository root): ${REGEN}   (new random keys every run).`,
      ...comment,
      'All byte strings are lowercase hex. Public keys are 33 bytes 0x05 ‖ X25519; private keys the 32-byte X25519 scalar as libsignal serializes it; Kyber keys carry the type byte 0x08.',
      'steps[i].alice / steps[i].bob: that party\'s session with the other after step i (null before it has one): `state` is the flat summary, `decoded` the whole current SessionStructure, `record` the raw SessionRecord.serialize(). See README.md for the field numbers.',
    ],
    peer: { implementation: 'libsignal', alice: libAlice, bob: libBob, names: { alice: 'alice', bob: 'bob' }, device_id: 1 },
    session_version: kyber ? 4 : 3,
    message_version_bytes: [...new Set(messages.map((m) => m.version_byte))],
    bob: {
      lib: libBob,
      registration_id: 8765,
      device_id: 1,
      bundle_as_published: bob.bundle,
      bundle_processed_by_alice: bundle,
      private: {
        identity_private: bob.secrets.identity_private,
        identity_public: bob.secrets.identity_public,
        signed_pre_key_private: bob.secrets.signed_pre_key_private,
        pre_key_private: bob.secrets.pre_key_private,
        kyber_secret_key: bob.secrets.kyber_secret_key,
      },
      after: { removed_pre_keys: bobExport.removed_pre_keys, kyber_pre_keys_marked_used: bobExport.kyber_pre_keys_used },
    },
    alice: {
      lib: libAlice,
      registration_id: 4321,
      device_id: 1,
      identity_private: alice.secrets.identity_private,
      identity_public: alice.secrets.identity_public,
      note: 'Alice\'s base key (ephemeral) private key is not exposed by libsignal; her ratchet private keys are in steps[].alice.state.sender_ratchet_private.',
    },
    messages,
    steps,
    checks: null,
  };
  vector.checks = selfCheck(vector, { kyber, opk });
  await call({ cmd: 'drop_party', p: A });
  await call({ cmd: 'drop_party', p: Bp });
  return vector;
}

// Recomputes from the recorded keys what can be recomputed without a Kyber implementation, and
// throws if libsignal's recorded values disagree with the protocol facts (PROTOCOLS.md §4).
function selfCheck(v, { kyber, opk }) {
  const checks = {};
  const bobPriv = v.bob.private;
  const bundle = v.bob.bundle_processed_by_alice;
  const first = v.messages[0];
  const pk = first.parsed;
  const aliceAfterBundle = v.steps[0].alice.state;

  if (x25519Public(bobPriv.identity_private) !== bundle.identity_key) throw new Error('bob identity key mismatch');
  if (x25519Public(bobPriv.signed_pre_key_private) !== bundle.signed_pre_key) throw new Error('bob signed prekey mismatch');
  if (x25519Public(v.alice.identity_private) !== v.alice.identity_public) throw new Error('alice identity mismatch');

  // Alice: a receiving chain (SPK_B, CK) and a sending chain from a root step against SPK_B.
  const initialRecv = aliceAfterBundle.receiver_chains[0];
  if (initialRecv.ratchet_key !== bundle.signed_pre_key) throw new Error('alice\'s first receiver chain is not on SPK_B');
  checks.alice_initial_receiver_chain_is_spk_b = true;

  const ratchetA1 = aliceAfterBundle.sender_ratchet_key;
  if (pk.message_parsed.ratchet_key !== ratchetA1) throw new Error('first message ratchet key');

  // X3DH / PQXDH: RK ‖ CK = HKDF(salt 0, 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ Kyber SS], info, 64)
  const parts = [
    Buffer.alloc(32, 0xff),
    x25519(bobPriv.signed_pre_key_private, v.alice.identity_public), // DH(IK_A, SPK_B)
    x25519(bobPriv.identity_private, pk.base_key), // DH(EK_A, IK_B)
    x25519(bobPriv.signed_pre_key_private, pk.base_key), // DH(EK_A, SPK_B)
  ];
  if (opk) parts.push(x25519(bobPriv.pre_key_private, pk.base_key)); // DH(EK_A, OPK_B)
  if ((pk.pre_key_id !== undefined) !== opk) throw new Error('pre_key_id presence in the PreKey message');
  let kyberSs = null;
  if (kyber) {
    kyberSs = kyberDecapsulate(pk.kyber_ciphertext, bobPriv.kyber_secret_key);
    parts.push(kyberSs);
  }
  const info = kyber ? 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024' : 'WhisperText';
  const okm = hkdf(Buffer.concat(parts), Buffer.alloc(32), info, 64);
  const rk0 = okm.subarray(0, 32).toString('hex');
  const ck0 = okm.subarray(32).toString('hex');
  if (ck0 !== initialRecv.chain_key) throw new Error('X3DH/PQXDH chain key does not match alice\'s receiver chain');
  const step = hkdf(x25519(bobPriv.signed_pre_key_private, ratchetA1), B(rk0), 'WhisperRatchet', 64);
  if (step.subarray(0, 32).toString('hex') !== aliceAfterBundle.root_key) throw new Error('alice root key after first root step');
  if (step.subarray(32).toString('hex') !== aliceAfterBundle.sender_chain_key) throw new Error('alice first sending chain key');
  checks[kyber ? 'pqxdh' : 'x3dh'] = {
    note: `Recomputed from bob's private keys and the first PreKeySignalMessage${kyber ? ' (Kyber1024 round-3 decapsulation by the pure-JS npm package crystals-kyber, independent of libsignal)' : ''}; matches libsignal.`,
    hkdf_info: info,
    dh_inputs: `FF*32 | DH(IK_A,SPK_B) | DH(EK_A,IK_B) | DH(EK_A,SPK_B)${opk ? ' | DH(EK_A,OPK_B)' : ''}${kyber ? ' | Kyber SS' : ''}`,
    ...(kyber ? { kyber_shared_secret: kyberSs.toString('hex') } : {}),
    root_key_0: rk0,
    chain_key_0: ck0,
    alice_root_key_1: aliceAfterBundle.root_key,
    alice_sending_chain_key_1: aliceAfterBundle.sender_chain_key,
  };

  // Each message's keys, MAC and plaintext, from the sender's chain key just before it sent.
  checks.messages = v.messages.map((m) => {
    const sig = m.type === 3 ? m.parsed.message_parsed : m.parsed;
    const bodyBytes = m.type === 3 ? B(m.parsed.message) : B(m.body);
    const counter = sig.counter ?? 0;
    if (m.sender_chain_index_before !== counter) throw new Error(`message ${m.index}: counter ${counter} vs chain index ${m.sender_chain_index_before}`);
    const keys = messageKeys(m.sender_chain_key_before);
    const senderIk = m.from === 'alice' ? v.alice.identity_public : bundle.identity_key;
    const receiverIk = m.from === 'alice' ? bundle.identity_key : v.alice.identity_public;
    const macInput = Buffer.concat([B(senderIk), B(receiverIk), bodyBytes.subarray(0, bodyBytes.length - 8)]);
    const mac = hmac(keys.mac_key, macInput).subarray(0, 8).toString('hex');
    const macOk = mac === sig.mac;
    let ptOk = false;
    if (macOk) {
      const d = crypto.createDecipheriv('aes-256-cbc', keys.cipher_key, keys.iv);
      const pt = Buffer.concat([d.update(B(sig.ciphertext)), d.final()]).toString('hex');
      ptOk = pt === m.plaintext;
    }
    return {
      message: m.index,
      counter,
      has_pq_ratchet_field: !!sig.pq_ratchet,
      verifies_without_spqr_salt: macOk && ptOk,
      ...(macOk && ptOk
        ? { cipher_key: keys.cipher_key.toString('hex'), mac_key: keys.mac_key.toString('hex'), iv: keys.iv.toString('hex') }
        : {}),
    };
  });
  if (!kyber || v.peer.alice === '0.72.1' || v.peer.bob === '0.72.1') {
    for (const c of checks.messages) {
      if (!c.verifies_without_spqr_salt) throw new Error(`message ${c.message} does not verify without SPQR`);
    }
  }

  // Receiving chains line up with the sender's chain: after decrypting message m the receiver's
  // chain for m's ratchet key is the sender's chain key advanced past m.
  for (const m of v.messages) {
    const recvStep = v.steps.find((s) => s.action === 'decrypt' && s.message === m.index);
    const st = recvStep[m.to].state;
    const rk = m.type === 3 ? m.parsed.message_parsed.ratchet_key : m.parsed.ratchet_key;
    const chain = st.receiver_chains.find((c) => c.ratchet_key === rk);
    if (!chain) throw new Error(`message ${m.index}: receiver has no chain for its ratchet key`);
    const expect = advance(m.sender_chain_key_before, m.sender_chain_index_before, chain.index);
    if (chain.index !== m.sender_chain_index_before + 1 || expect !== chain.chain_key) {
      throw new Error(`message ${m.index}: receiver chain key does not follow the sender's`);
    }
  }
  checks.receiver_chains_follow_sender_chains = true;

  // Root steps: alice's root key after decrypting bob's first reply, from bob's ratchet key.
  const r1 = v.messages.find((m) => m.from === 'bob');
  const aliceBefore = v.steps.find((s) => s.action === 'encrypt' && s.message === r1.index).alice.state;
  const aliceAfter = v.steps.find((s) => s.action === 'decrypt' && s.message === r1.index).alice.state;
  const b1 = r1.parsed.ratchet_key;
  const s1 = hkdf(x25519(aliceBefore.sender_ratchet_private, b1), B(aliceBefore.root_key), 'WhisperRatchet', 64);
  const bobChain = aliceAfter.receiver_chains.find((c) => c.ratchet_key === b1);
  if (advance(s1.subarray(32).toString('hex'), 0, bobChain.index) !== bobChain.chain_key) throw new Error('alice receiving root step');
  const s2 = hkdf(x25519(aliceAfter.sender_ratchet_private, b1), s1.subarray(0, 32), 'WhisperRatchet', 64);
  if (s2.subarray(0, 32).toString('hex') !== aliceAfter.root_key || s2.subarray(32).toString('hex') !== aliceAfter.sender_chain_key) {
    throw new Error('alice sending root step');
  }
  checks.root_steps = 'alice\'s two root steps on bob\'s first reply recomputed: RK\' ‖ CK = HKDF(RK, DH(ours, theirs), "WhisperRatchet", 64)';

  const bobAfterFirst = v.steps.find((s) => s.action === 'decrypt' && s.message === 0).bob.state;
  checks.bob_first_receive = {
    note: 'bob, on the first PreKeySignalMessage: receiving chain on A1 from HKDF(RK0, DH(SPK_B, A1)), then a new ratchet key and a sending chain from HKDF(RK1, DH(B1, A1)). RK1 equals alice_root_key_1.',
    bob_root_key_after: bobAfterFirst.root_key,
    bob_sender_ratchet_key: bobAfterFirst.sender_ratchet_key,
    bob_sender_ratchet_private: bobAfterFirst.sender_ratchet_private,
    bob_sender_chain_key: bobAfterFirst.sender_chain_key,
  };
  const bs2 = hkdf(x25519(bobAfterFirst.sender_ratchet_private, ratchetA1), B(aliceAfterBundle.root_key), 'WhisperRatchet', 64);
  if (bs2.subarray(0, 32).toString('hex') !== bobAfterFirst.root_key || bs2.subarray(32).toString('hex') !== bobAfterFirst.sender_chain_key) {
    throw new Error('bob sending root step after the PreKey message');
  }
  checks.bob_first_receive.recomputed = true;
  return checks;
}

// ---------------------------------------------------------------------------------------------
// XEdDSA

async function xeddsa(lib) {
  const lengths = [0, 1, 5, 32, 33, 64, 100, 1000];
  const want = { set: 4, clear: 4 };
  const triples = [];
  let tries = 0;
  while (triples.length < 8 && tries++ < 200) {
    const i = triples.length;
    const p = `x${tries}`;
    const party = await call({ cmd: 'new_party', p, lib, name: 'signer' });
    const msg = crypto.createHash('sha512').update(`caudata xeddsa vector ${tries}`).digest();
    const msgHex = Buffer.concat(Array(Math.ceil(lengths[i] / 64) + 1).fill(msg)).subarray(0, lengths[i]).toString('hex');
    const s = await call({ cmd: 'xeddsa_sign', p, msg: msgHex });
    await call({ cmd: 'drop_party', p });
    const bit7 = (B(s.sig)[63] & 0x80) !== 0;
    const kind = bit7 ? 'set' : 'clear';
    if (want[kind] === 0) continue;
    want[kind]--;
    const flipped = B(s.sig);
    flipped[63] ^= 0x80;
    const verifiedBy = {};
    const flippedVerifiedBy = {};
    for (const v of ['0.72.1', '0.90.0', '0.92.2', '0.103.0']) {
      verifiedBy[v] = (await call({ cmd: 'xeddsa_verify', lib: v, public_key: s.public_key, msg: msgHex, sig: s.sig })).valid;
      flippedVerifiedBy[v] = (await call({ cmd: 'xeddsa_verify', lib: v, public_key: s.public_key, msg: msgHex, sig: flipped.toString('hex') })).valid;
    }
    triples.push({
      public_key: s.public_key,
      private_key: party.secrets.identity_private,
      message: msgHex,
      message_len: lengths[i],
      signature: s.sig,
      sig63_bit7_set: bit7,
      valid_in_libsignal: verifiedBy,
      valid_in_libsignal_with_sig63_bit7_flipped: flippedVerifiedBy,
    });
  }
  return {
    _comment: [
      `XEdDSA signatures made by libsignal ${lib} (PrivateKey.sign, npm @signalapp/libsignal-client, Node ${process.versions.node}) on ${today}; each verified by PublicKey.verify of 0.72.1, 0.90.0, 0.92.2 and 0.103.0.`,
      `Regenerate (from the repository root): ${REGEN}   (new random keys and nonces every run).`,
      'public_key: 33 bytes 0x05 ‖ X25519 u; private_key: the 32-byte X25519 scalar; signature: 64 bytes R ‖ s, where libsignal puts the sign of its Ed25519 public key (from the private scalar) into bit 7 of sig[63]. sig63_bit7_set says whether that bit is set; a verifier that forces the sign bit to 0 (the XEdDSA spec) rejects those. valid_in_libsignal_with_sig63_bit7_flipped: what libsignal says when that bit is flipped.',
      'The bit depends only on the key (the sign of the Ed25519 point a·B for the private scalar a), not on the message: fresh keys were drawn until there were four of each. libsignal\'s signing is randomized (signing the same message twice gives two different signatures), so no test can expect to reproduce these bytes, only to verify them.',
    ],
    peer: { implementation: 'libsignal', version: lib },
    vectors: triples,
  };
}

// ---------------------------------------------------------------------------------------------

const SPQR_NOTE_090 =
  'Both parties run 0.90.0, which offers SPQR: every SignalMessage carries field 5 (pq_ratchet) and the session keeps pq_ratchet_state (SessionStructure field 15). checks.messages says, per message, whether the MAC and plaintext verify with "WhisperMessageKeys" unsalted (no SPQR key); where they do not, the SPQR per-message key is the HKDF salt.';
const plans = [
  {
    file: 'x3dh_v3_libsignal-0.72.1.json',
    title: 'X3DH (session version 3) with a one-time prekey: bob\'s bundle without the Kyber fields.',
    libAlice: '0.72.1',
    libBob: '0.72.1',
    kyber: false,
    opk: true,
    comment: ['libsignal 0.72.1 is the newest that makes and accepts X3DH v3 sessions; its messages start 0x34.'],
  },
  {
    file: 'x3dh_v3_no_opk_libsignal-0.72.1.json',
    title: 'X3DH (session version 3) without a one-time prekey (no DH4; PreKeySignalMessage has no field 1).',
    libAlice: '0.72.1',
    libBob: '0.72.1',
    kyber: false,
    opk: false,
    comment: ['libsignal 0.72.1; messages start 0x34.'],
  },
  {
    file: 'pqxdh_v4_libsignal-0.72.1.json',
    title: 'PQXDH (session version 4, Kyber1024) with a one-time prekey, libsignal 0.72.1 on both sides (no SPQR: 0.72.1 has none).',
    libAlice: '0.72.1',
    libBob: '0.72.1',
    kyber: true,
    opk: true,
    comment: ['Messages start 0x44. Without SPQR every message key is HKDF(none, seed, "WhisperMessageKeys").'],
  },
  {
    file: 'pqxdh_v4_libsignal-0.90.0.json',
    title: 'PQXDH (session version 4, Kyber1024) with a one-time prekey, libsignal 0.90.0 on both sides.',
    libAlice: '0.90.0',
    libBob: '0.90.0',
    kyber: true,
    opk: true,
    comment: [SPQR_NOTE_090],
  },
  {
    file: 'pqxdh_v4_no_opk_libsignal-0.90.0.json',
    title: 'PQXDH (session version 4, Kyber1024) without a one-time prekey, libsignal 0.90.0 on both sides.',
    libAlice: '0.90.0',
    libBob: '0.90.0',
    kyber: true,
    opk: false,
    comment: [SPQR_NOTE_090],
  },
  {
    file: 'pqxdh_v4_alice-0.72.1_bob-0.90.0.json',
    title: 'PQXDH v4: alice on libsignal 0.72.1 (no SPQR) initiates to bob on 0.90.0, who then negotiates SPQR away.',
    libAlice: '0.72.1',
    libBob: '0.90.0',
    kyber: true,
    opk: true,
    comment: ['What a peer without SPQR (e.g. caudata) sees from 0.90.0 as the initiator: bob never sends field 5.'],
  },
  {
    file: 'pqxdh_v4_alice-0.90.0_bob-0.72.1.json',
    title: 'PQXDH v4: alice on libsignal 0.90.0 (offers SPQR) initiates to bob on 0.72.1 (no SPQR).',
    libAlice: '0.90.0',
    libBob: '0.72.1',
    kyber: true,
    opk: true,
    comment: ['What a peer without SPQR sees from 0.90.0 as the responder: alice\'s PreKey messages carry field 5 (ignored by bob, but covered by the MAC) until bob\'s first reply, then alice drops it.'],
  },
];

for (const plan of plans) {
  if (only && !plan.file.includes(only)) continue;
  const v = await conversation(plan);
  fs.writeFileSync(path.join(here, plan.file), JSON.stringify(v, null, 1) + '\n');
  const salted = v.checks.messages.filter((c) => !c.verifies_without_spqr_salt).map((c) => c.message);
  console.log(`${plan.file}: ${v.messages.length} messages, version bytes ${v.message_version_bytes.join(',')}, needing SPQR salt: [${salted.join(',')}]`);
}
if (!only || 'xeddsa_libsignal-0.72.1.json'.includes(only)) {
  const x = await xeddsa('0.72.1');
  fs.writeFileSync(path.join(here, 'xeddsa_libsignal-0.72.1.json'), JSON.stringify(x, null, 1) + '\n');
  console.log(`xeddsa_libsignal-0.72.1.json: ${x.vectors.length} signatures`);
}
