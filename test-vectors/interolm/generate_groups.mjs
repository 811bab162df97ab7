#!/usr/bin/env node
// Regenerates the known-answer vectors for sender keys, sealed sender, retry receipts and
// safety numbers from real libsignal (0.72.1, 0.90.0, 0.103.0):
//
//   bash interop/libsignal/setup.sh && node test-vectors/interolm/generate_groups.mjs
//
// (from the repository root). libsignal is driven through its public npm API only, by
// interop/libsignal/groups.mjs. Each run draws new keys, so the files change completely. Before
// a file is written, what libsignal produced is re-checked here independently of libsignal
// (node:crypto): the sender-key chain and message keys and every group ciphertext, sealed
// sender v1 opened from the recipient's private key, v2's message key, ephemeral key and
// authentication tag, and every safety number. A file is written only if every check passes.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGroupsPeer } from '../../interop/libsignal/groups.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REGEN = 'bash interop/libsignal/setup.sh && node test-vectors/interolm/generate_groups.mjs';
const today = new Date().toISOString().slice(0, 10);
const LIBS = ['0.72.1', '0.90.0', '0.103.0'];

const peer = createGroupsPeer();
async function call(req) {
  const r = await peer.handle(req);
  if (!r.ok) throw new Error(`${req.cmd} failed: ${r.error}`);
  delete r.ok;
  return r;
}

const B = (hex) => Buffer.from(hex, 'hex');
const H = (b) => Buffer.from(b).toString('hex');
const utf8 = (s) => Buffer.from(s, 'utf8').toString('hex');
const hkdf = (ikm, salt, info, len) => Buffer.from(crypto.hkdfSync('sha256', ikm, salt ?? Buffer.alloc(0), Buffer.from(info), len));
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
function check(cond, what) {
  if (!cond) throw new Error(`independent check failed: ${what}`);
}

// X25519 with libsignal's key forms (private: 32-byte scalar; public: 0x05 ‖ u).
function x25519(privHex, pubHex) {
  const pub = B(pubHex);
  const u = pub.length === 33 ? pub.subarray(1) : pub;
  const priv = crypto.createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), B(privHex)]),
    format: 'der',
    type: 'pkcs8',
  });
  const pubKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: u.toString('base64url') }, format: 'jwk' });
  return crypto.diffieHellman({ privateKey: priv, publicKey: pubKey });
}

function x25519Public(privHex) {
  const key = crypto.createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), B(privHex)]),
    format: 'der',
    type: 'pkcs8',
  });
  return '05' + Buffer.from(key.export({ format: 'jwk' }).x, 'base64url').toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Sender keys

function groupDecryptIndependently(chainKeyHex, from, iteration, ciphertextHex) {
  let ck = B(chainKeyHex);
  for (let i = from; i < iteration; i++) ck = hmac(ck, Buffer.from([2]));
  const seed = hmac(ck, Buffer.from([1]));
  const k = hkdf(seed, Buffer.alloc(32), 'WhisperGroup', 48);
  const d = crypto.createDecipheriv('aes-256-cbc', k.subarray(16), k.subarray(0, 16));
  return Buffer.concat([d.update(B(ciphertextHex)), d.final()]);
}

async function senderKeys(lib) {
  const tag = lib.replaceAll('.', '');
  const dist = 'd1d1d1d1-7000-11eb-b32a-33b8a8a487a6';
  const [ps, pr] = [`sks${tag}`, `skr${tag}`];
  await call({ cmd: 'new_party', p: ps, lib, name: 'sender', device_id: 1 });
  await call({ cmd: 'new_party', p: pr, lib, name: 'receiver', device_id: 1 });
  const skdm = await call({ cmd: 'sk_create', p: ps, distribution_id: dist });
  const parsed = await call({ cmd: 'sk_parse', lib, kind: 'skdm', body: skdm.skdm });
  await call({ cmd: 'sk_process', p: pr, sender_name: 'sender', sender_device: 1, skdm: skdm.skdm });
  const messages = [];
  for (let i = 0; i < 8; i++) {
    const pt = utf8(`group message ${i}${'.'.repeat(i * 5)}`);
    const m = await call({ cmd: 'sk_encrypt', p: ps, distribution_id: dist, pt });
    const f = await call({ cmd: 'sk_parse', lib, kind: 'skm', body: m.body });
    check(f.iteration === i, 'iterations count from 0');
    const again = groupDecryptIndependently(parsed.chain_key, 0, f.iteration, f.ciphertext);
    check(H(again) === pt, `group message ${i} decrypts with the recomputed key`);
    messages.push({ iteration: f.iteration, pt, body: m.body });
  }
  // The receiver decrypts in this order (skipped keys stored and taken), then both records.
  const order = [3, 0, 7, 1, 5];
  for (const i of order) {
    const r = await call({ cmd: 'sk_decrypt', p: pr, sender_name: 'sender', sender_device: 1, body: messages[i].body });
    check(r.pt === messages[i].pt, 'libsignal decrypts its own message');
  }
  const sender_record = (await call({ cmd: 'sk_record', p: ps, sender_name: 'sender', sender_device: 1, distribution_id: dist })).record;
  const receiver_record = (await call({ cmd: 'sk_record', p: pr, sender_name: 'sender', sender_device: 1, distribution_id: dist })).record;
  return {
    _comment: [
      `Sender keys (libsignal groups) made by libsignal ${lib} (npm @signalapp/libsignal-client, Node ${process.version}) on ${today},`,
      'through interop/libsignal/groups.mjs. A sender made a distribution message (skdm) and 8 group messages (type 7); a',
      'receiver processed the skdm and decrypted messages in `receiver_order`. `sender_record` and `receiver_record` are',
      "libsignal's SenderKeyRecord.serialize() after that. Every ciphertext was decrypted independently (node:crypto) from",
      `the skdm's chain key. Regenerate: ${REGEN}`,
    ],
    lib,
    distribution_id: dist,
    skdm: skdm.skdm,
    skdm_fields: { chain_id: parsed.chain_id, iteration: parsed.iteration, chain_key: parsed.chain_key },
    messages,
    receiver_order: order,
    sender_record,
    receiver_record,
    checks: ['every ciphertext decrypts under the recomputed chain (node:crypto)'],
  };
}

// ---------------------------------------------------------------------------------------------
// Sealed sender

function ctrHmacOpen(cipherKey, macKey, data) {
  const body = data.subarray(0, data.length - 10);
  const tag = hmac(macKey, body).subarray(0, 10);
  check(tag.equals(data.subarray(data.length - 10)), 'v1 MAC');
  const d = crypto.createDecipheriv('aes-256-ctr', cipherKey, Buffer.alloc(16));
  return Buffer.concat([d.update(body), d.final()]);
}

function pbFields(buf) {
  const out = {};
  let i = 0;
  const varint = () => {
    let v = 0;
    let s = 0;
    for (;;) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return v;
      s += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    if ((key & 7) === 2) {
      const n = varint();
      out[key >> 3] = buf.subarray(i, i + n);
      i += n;
    } else out[key >> 3] = varint();
  }
  return out;
}

function openV1Independently(recipientPriv, recipientPub, sealedHex) {
  const sealed = B(sealedHex);
  check(sealed[0] === 0x11, 'v1 version byte');
  const f = pbFields(sealed.subarray(1));
  const e = H(f[1]);
  const k = hkdf(x25519(recipientPriv, e), Buffer.concat([Buffer.from('UnidentifiedDelivery'), B(recipientPub), f[1]]), '', 96);
  const staticKey = ctrHmacOpen(k.subarray(32, 64), k.subarray(64), f[2]);
  const k2 = hkdf(x25519(recipientPriv, H(staticKey)), Buffer.concat([k.subarray(0, 32), f[2]]), '', 96);
  return { sender: H(staticKey), usmc: H(ctrHmacOpen(k2.subarray(32, 64), k2.subarray(64), f[3])) };
}

function checkV2Independently(recipientPriv, recipientPub, senderPub, v2Hex) {
  const v = B(v2Hex);
  check(v[0] === 0x22, 'v2 version byte');
  const [c, at, e] = [v.subarray(1, 33), v.subarray(33, 49), v.subarray(49, 81)];
  const e33 = Buffer.concat([Buffer.from([5]), e]);
  const pad = hkdf(Buffer.concat([x25519(recipientPriv, H(e33)), e33, B(recipientPub)]), null, 'Sealed Sender v2: DH', 32);
  const m = Buffer.from(pad.map((x, i) => x ^ c[i]));
  const r = hkdf(m, null, 'Sealed Sender v2: r (2023-08)', 32);
  check(x25519Public(H(r)) === H(e33), 'v2: E is derived from M');
  const at2 = hkdf(Buffer.concat([x25519(recipientPriv, senderPub), e33, c, B(senderPub), B(recipientPub)]), null, 'Sealed Sender v2: DH-sender', 16);
  check(at2.equals(at), 'v2: the authentication tag');
  return { m: H(m), k: H(hkdf(m, null, 'Sealed Sender v2: K', 32)) };
}

async function sealedSender(lib) {
  const tag = lib.replaceAll('.', '');
  const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';
  const BOB = 'aaaaaaaa-7000-11eb-b32a-33b8a8a487a6';
  const [pa, pb] = [`ssa${tag}`, `ssb${tag}`];
  await call({ cmd: 'new_party', p: pa, lib, name: ALICE, registration_id: 4321 });
  const bob = await call({ cmd: 'new_party', p: pb, lib, name: BOB, registration_id: 1234 });
  await call({ cmd: 'process_bundle', p: pa, peer_name: BOB, peer_device_id: 1, bundle: bob.bundle });
  const alice = await call({ cmd: 'export_party', p: pa });
  const root = await call({ cmd: 'ss_keypair', lib });
  const server = await call({ cmd: 'ss_keypair', lib });
  const server_cert = (await call({ cmd: 'ss_server_cert', lib, key_id: 0x2a, key: server.public, trust_root_private: root.private })).cert;
  const expiration = 1800000000000;
  const sender_cert = (await call({ cmd: 'ss_sender_cert', lib, uuid: ALICE, e164: '+14155550123', device_id: 1, identity_key: alice.secrets.identity_public, expiration, server_cert, server_private: server.private })).cert;
  const validity = {};
  for (const t of [1700000000000, expiration, expiration + 1]) {
    validity[t] = (await call({ cmd: 'ss_validate', lib, cert: sender_cert, trust_roots: [root.public], time: t })).valid;
  }
  check(validity[expiration] && !validity[expiration + 1], 'a certificate is valid up to and including its expiration');
  const u1 = await call({ cmd: 'ss_usmc', p: pa, peer_name: BOB, peer_device: 1, pt: utf8('sealed v1'), sender_cert, content_hint: 1, group_id: null });
  const v1 = (await call({ cmd: 'ss_seal_v1', p: pa, peer_name: BOB, peer_device: 1, usmc: u1.usmc })).sealed;
  const o1 = openV1Independently(bob.secrets.identity_private, bob.secrets.identity_public, v1);
  check(o1.usmc === u1.usmc && o1.sender === alice.secrets.identity_public, 'v1 opened independently');
  // A group message in a v2 envelope: the sender key distribution message first.
  const dist = 'e2e2e2e2-7000-11eb-b32a-33b8a8a487a6';
  const skdm = await call({ cmd: 'sk_create', p: pa, distribution_id: dist });
  const u2 = await call({ cmd: 'ss_usmc', p: pa, distribution_id: dist, pt: utf8('sealed v2 group message'), sender_cert, content_hint: 2, group_id: '0123456789abcdef0123456789abcdef' });
  const sent = (await call({ cmd: 'ss_multi', p: pa, recipients: [{ name: BOB, device: 1 }], excluded: ['PNI:bbbbbbbb-7000-11eb-b32a-33b8a8a487a6'], usmc: u2.usmc })).sent;
  const split = await call({ cmd: 'ss_split', lib, sent });
  const v2 = split.recipients[BOB].message;
  const k2 = checkV2Independently(bob.secrets.identity_private, bob.secrets.identity_public, alice.secrets.identity_public, v2);
  const opened = await call({ cmd: 'ss_decrypt_to_usmc', p: pb, body: v2 });
  check(opened.usmc === u2.usmc, 'libsignal opens v2');
  return {
    _comment: [
      `Sealed sender made by libsignal ${lib} (npm @signalapp/libsignal-client, Node ${process.version}) on ${today}, through`,
      'interop/libsignal/groups.mjs: a trust root and server certificate made in the harness, alice\'s sender certificate',
      '(`validity`: validateWithTrustRoots at three times), a v1 envelope of a content around alice\'s pre-key message to',
      'bob, and a multi-recipient v2 message (one recipient, one excluded PNI) of a content around a group message',
      "(type 7), with libsignal's fan-out for bob. v1 was opened and v2's keys re-derived independently (node:crypto) from",
      `bob's private identity key. Regenerate: ${REGEN}`,
    ],
    lib,
    trust_root_public: root.public,
    server_certificate: server_cert,
    server_key_public: server.public,
    sender_certificate: sender_cert,
    expiration,
    validity,
    alice_identity_public: alice.secrets.identity_public,
    bob_identity_private: bob.secrets.identity_private,
    bob_identity_public: bob.secrets.identity_public,
    v1: { sealed: v1, usmc: u1.usmc, type: u1.type, content_hint: u1.content_hint, group_id: u1.group_id },
    v2: {
      sent,
      for_bob: v2,
      excluded: split.excluded,
      usmc: u2.usmc,
      type: u2.type,
      content_hint: u2.content_hint,
      group_id: u2.group_id,
      message_key: k2.m,
      skdm: skdm.skdm,
      registration_ids: split.recipients[BOB].registration_ids,
      device_ids: split.recipients[BOB].device_ids,
    },
    checks: ['v1 opened with node:crypto', 'v2: M, E, K and AT re-derived with node:crypto'],
  };
}

// ---------------------------------------------------------------------------------------------
// Retry receipts and safety numbers

function fingerprintIndependently(iterations, idHex, keyHex) {
  let h = crypto.createHash('sha512').update(Buffer.concat([Buffer.alloc(2), B(keyHex), B(idHex), B(keyHex)])).digest();
  for (let i = 1; i < iterations; i++) h = crypto.createHash('sha512').update(Buffer.concat([h, B(keyHex)])).digest();
  const digits = [0, 5, 10, 15, 20, 25].map((o) => (Number(h.readBigUInt64BE(o) >> 24n) % 100000).toString().padStart(5, '0')).join('');
  return { digits, scannable: h.subarray(0, 32) };
}

async function retryAndFingerprints(lib) {
  const tag = lib.replaceAll('.', '');
  const [pa, pb] = [`rfa${tag}`, `rfb${tag}`];
  await call({ cmd: 'new_party', p: pa, lib, name: 'alice' });
  const bob = await call({ cmd: 'new_party', p: pb, lib, name: 'bob' });
  await call({ cmd: 'process_bundle', p: pa, peer_name: 'bob', peer_device_id: 1, bundle: bob.bundle });
  const pre = await call({ cmd: 'encrypt', p: pa, peer_name: 'bob', peer_device_id: 1, pt: '01' });
  await call({ cmd: 'decrypt', p: pb, peer_name: 'alice', peer_device_id: 1, type: pre.type, body: pre.body });
  const whisper = await call({ cmd: 'encrypt', p: pb, peer_name: 'alice', peer_device_id: 1, pt: '02' });
  await call({ cmd: 'sk_create', p: pa, distribution_id: 'f3f3f3f3-7000-11eb-b32a-33b8a8a487a6' });
  const group = await call({ cmd: 'sk_encrypt', p: pa, distribution_id: 'f3f3f3f3-7000-11eb-b32a-33b8a8a487a6', pt: '03' });
  const retries = [];
  for (const [m, ts, dev] of [[pre, 1700000000001, 1], [whisper, 0, 127], [group, 2 ** 53 - 1, 42]]) {
    const dem = (await call({ cmd: 'dem_for_original', lib, body: m.body, type: m.type, timestamp: ts, device_id: dev })).dem;
    const pc = await call({ cmd: 'plaintext_from_dem', lib, dem });
    const parsed = await call({ cmd: 'dem_parse', lib, dem });
    retries.push({ type: m.type, original: m.body, timestamp: ts, device_id: dev, dem, ratchet_key: parsed.ratchet_key, plaintext_content: pc.plaintext });
  }
  const fingerprints = [];
  const ids = [utf8('+14152222222'), 'aaaaaaaa700011ebb32a33b8a8a487a6', ''];
  for (const [version, iterations] of [[1, 5200], [2, 5200], [2, 1024], [0, 2]]) {
    const [ka, kb] = [(await call({ cmd: 'ss_keypair', lib })).public, (await call({ cmd: 'ss_keypair', lib })).public];
    const [ida, idb] = [ids[fingerprints.length % 3], ids[(fingerprints.length + 1) % 3]];
    const f = await call({ cmd: 'fingerprint', lib, iterations, version, local_id: ida, local_key: ka, remote_id: idb, remote_key: kb });
    const [a, b] = [fingerprintIndependently(iterations, ida, ka), fingerprintIndependently(iterations, idb, kb)];
    check(f.display === (a.digits < b.digits ? a.digits + b.digits : b.digits + a.digits), 'displayable fingerprint');
    check(f.scannable.includes(H(a.scannable)) && f.scannable.includes(H(b.scannable)), 'scannable fingerprint');
    fingerprints.push({ version, iterations, local_id: ida, local_key: ka, remote_id: idb, remote_key: kb, display: f.display, scannable: f.scannable });
  }
  return {
    _comment: [
      `Retry receipts and safety numbers made by libsignal ${lib} (npm @signalapp/libsignal-client, Node ${process.version}) on`,
      `${today}, through interop/libsignal/groups.mjs: DecryptionErrorMessage.forOriginal of a pre-key (3), a whisper (2) and a`,
      'group (7) message, with PlaintextContent.from of each; Fingerprint.new for several versions, iteration counts and',
      `identifiers (each re-computed with node:crypto SHA-512). Regenerate: ${REGEN}`,
    ],
    lib,
    retries,
    fingerprints,
    checks: ['every fingerprint re-computed with node:crypto'],
  };
}

for (const lib of LIBS) {
  for (const [name, make] of [['sender_keys', senderKeys], ['sealed_sender', sealedSender], ['retry_fingerprint', retryAndFingerprints]]) {
    const v = await make(lib);
    const file = `${name}_libsignal-${lib}.json`;
    fs.writeFileSync(path.join(here, file), JSON.stringify(v, null, 1) + '\n');
    process.stdout.write(`wrote ${file}\n`);
  }
}
