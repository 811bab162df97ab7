#!/usr/bin/env node
// Smoke test of peer.mjs over its JSON-lines interface:
//   node interop/libsignal/smoke.mjs [--quick]
// For every (initiator lib, responder lib) pair: the initiator processes the responder's bundle,
// sends a PreKey message, then ~10 replies go each way. Prints a table of what works, then some
// error behaviours (bad MAC, unknown prekey ids, duplicates, bad input). Exits 1 if a
// same-version conversation fails or the peer misbehaves.

import { PeerProcess } from './client.mjs';
import { pbRead, pbWrite } from './peer.mjs';

const VERSIONS = ['0.72.1', '0.90.0', '0.92.2', '0.103.0'];
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 10;

const peer = new PeerProcess();
let uniq = 0;
const hexOf = (s) => Buffer.from(s, 'utf8').toString('hex');

function stripKyber(bundle) {
  const b = { ...bundle };
  delete b.kyber_pre_key_id;
  delete b.kyber_pre_key;
  delete b.kyber_pre_key_signature;
  return b;
}

// Runs one conversation; returns {ok, step, error, versions, pq}.
async function conversation(libA, libB, { x3dh = false } = {}) {
  const n = ++uniq;
  const pa = `a${n}`;
  const pb = `b${n}`;
  const seen = new Set();
  // Whether SPQR data (SignalMessage field 5) was in each side's first and last message.
  const pqSeen = { alice: [], bob: [] };
  const note = async (m, sender = 'alice') => {
    seen.add(m.body.slice(0, 2));
    const parsed = (await peer.call({ cmd: 'parse_message', type: m.type, body: m.body })).parsed;
    const inner = m.type === 3 ? parsed.message_parsed : parsed;
    pqSeen[sender].push(inner.pq_ratchet ? 'y' : 'n');
  };
  const pqSummary = () =>
    ['alice', 'bob'].map((k) => `${k[0].toUpperCase()}:${pqSeen[k].length ? pqSeen[k][0] + pqSeen[k].at(-1) : '-'}`).join(' ');
  let step = 'new_party';
  try {
    await peer.call({ cmd: 'new_party', p: pa, lib: libA, name: 'alice', registration_id: 1000 + n });
    const b = await peer.call({ cmd: 'new_party', p: pb, lib: libB, name: 'bob', registration_id: 2000 + n });
    step = 'process_bundle';
    await peer.call({ cmd: 'process_bundle', p: pa, peer_name: 'bob', peer_device_id: 1, bundle: x3dh ? stripKyber(b.bundle) : b.bundle });
    step = 'encrypt prekey';
    const first = await peer.call({ cmd: 'encrypt', p: pa, peer_name: 'bob', peer_device_id: 1, pt: hexOf('hello bob') });
    if (first.type !== 3) throw new Error(`first message has type ${first.type}`);
    await note(first);
    step = 'decrypt prekey';
    const d = await peer.call({ cmd: 'decrypt', p: pb, peer_name: 'alice', peer_device_id: 1, type: 3, body: first.body });
    if (d.pt !== hexOf('hello bob')) throw new Error('plaintext mismatch');
    for (let i = 0; i < ROUNDS; i++) {
      for (const [from, to, fromName, toName] of [
        [pb, pa, 'bob', 'alice'],
        [pa, pb, 'alice', 'bob'],
      ]) {
        step = `round ${i} ${fromName}->${toName}`;
        // Sometimes two in a row, to exercise the chain as well as the ratchet.
        const count = i % 3 === 2 ? 2 : 1;
        for (let k = 0; k < count; k++) {
          const pt = hexOf(`${fromName} ${i}.${k}`);
          const m = await peer.call({ cmd: 'encrypt', p: from, peer_name: toName, peer_device_id: 1, pt });
          await note(m, fromName);
          const r = await peer.call({ cmd: 'decrypt', p: to, peer_name: fromName, peer_device_id: 1, type: m.type, body: m.body });
          if (r.pt !== pt) throw new Error('plaintext mismatch');
        }
      }
    }
    return { ok: true, versions: [...seen].sort(), pq: pqSummary() };
  } catch (e) {
    return { ok: false, step, error: e.response?.error ?? String(e), versions: [...seen].sort(), pq: pqSummary() };
  } finally {
    await peer.request({ cmd: 'drop_party', p: pa });
    await peer.request({ cmd: 'drop_party', p: pb });
  }
}

async function behaviours(lib) {
  const out = {};
  const n = ++uniq;
  const A = `ea${n}`;
  const B = `eb${n}`;
  await peer.call({ cmd: 'new_party', p: A, lib, name: 'alice', registration_id: 3000 + n });
  const b = await peer.call({ cmd: 'new_party', p: B, lib, name: 'bob', registration_id: 4000 + n });
  const send = (from, to, pt) => peer.call({ cmd: 'encrypt', p: from, peer_name: to, peer_device_id: 1, pt });
  const recv = (at, from, m) => peer.request({ cmd: 'decrypt', p: at, peer_name: from, peer_device_id: 1, type: m.type, body: m.body });
  const brief = (r) => (r.ok ? 'ok (decrypted)' : `${r.error}${r.code !== undefined ? ` [code ${r.code}]` : ''}`);

  // Unknown one-time prekey id.
  {
    const C = `ec${n}`;
    await peer.call({ cmd: 'new_party', p: C, lib, name: 'carol', registration_id: 5000 + n });
    await peer.call({ cmd: 'process_bundle', p: C, peer_name: 'bob', bundle: { ...b.bundle, pre_key_id: 999 } });
    out['unknown one-time prekey id'] = brief(await recv(B, 'carol', await send(C, 'bob', '01')));
    await peer.call({ cmd: 'process_bundle', p: C, peer_name: 'bob', bundle: { ...b.bundle, signed_pre_key_id: 998 } });
    out['unknown signed prekey id'] = brief(await recv(B, 'carol', await send(C, 'bob', '01')));
    if (b.bundle.kyber_pre_key) {
      await peer.call({ cmd: 'process_bundle', p: C, peer_name: 'bob', bundle: { ...b.bundle, kyber_pre_key_id: 997 } });
      out['unknown kyber prekey id'] = brief(await recv(B, 'carol', await send(C, 'bob', '01')));
    }
    const badSig = { ...b.bundle, signed_pre_key_signature: '00'.repeat(64) };
    out['bundle with bad signed-prekey signature'] = brief(await peer.request({ cmd: 'process_bundle', p: C, peer_name: 'bob', bundle: badSig }));
    if (b.bundle.kyber_pre_key) {
      const badK = { ...b.bundle, kyber_pre_key_signature: '00'.repeat(64) };
      out['bundle with bad kyber-prekey signature'] = brief(await peer.request({ cmd: 'process_bundle', p: C, peer_name: 'bob', bundle: badK }));
    }
    await peer.request({ cmd: 'drop_party', p: C });
  }

  await peer.call({ cmd: 'process_bundle', p: A, peer_name: 'bob', bundle: b.bundle });
  const m1 = await send(A, 'bob', '6869');
  // More PreKey messages of the same session, to alter their unauthenticated outer fields.
  const extra = [];
  for (let i = 0; i < 5; i++) extra.push(await send(A, 'bob', '6869'));
  // Tampered PreKey message (last MAC byte of the inner message).
  const tampered = { ...m1, body: m1.body.slice(0, -2) + (m1.body.slice(-2) === '00' ? '01' : '00') };
  out['PreKey message with bad MAC'] = brief(await recv(B, 'alice', tampered));
  const has = await peer.call({ cmd: 'has_session', p: B, peer_name: 'alice' });
  out['session after failed PreKey decrypt'] = JSON.stringify(has);
  const ok1 = await recv(B, 'alice', m1);
  out['genuine PreKey message after that'] = brief(ok1);
  out['same PreKey message again'] = brief(await recv(B, 'alice', m1));
  // Outer fields of a later PreKey message of the established session, altered.
  const D = `ed${n}`;
  const dave = await peer.call({ cmd: 'new_party', p: D, lib, name: 'dave' });
  const alter = (m, f) => {
    const buf = Buffer.from(m.body, 'hex');
    const fields = f(pbRead(buf.subarray(1)));
    return { type: 3, body: buf.subarray(0, 1).toString('hex') + pbWrite(fields.map((x) => [x.field, x.wire === 0 ? 'varint' : 'bytes', x.value])).toString('hex') };
  };
  const set = (field, value) => (fs) => fs.map((x) => (x.field === field ? { ...x, value } : x));
  const cases = [
    ['outer registration_id altered', set(5, 999n)],
    ['outer pre_key_id removed', (fs) => fs.filter((x) => x.field !== 1)],
    ['outer signed_pre_key_id altered', set(6, 4444n)],
    ['outer identity_key replaced', set(3, Buffer.from(dave.bundle.identity_key, 'hex'))],
    ['outer base_key replaced', set(2, Buffer.from(dave.bundle.pre_key, 'hex'))],
  ];
  for (const [i, [label, f]] of cases.entries()) {
    out[`later PreKey msg, ${label}`] = brief(await recv(B, 'alice', alter(extra[i], f)));
  }
  await peer.request({ cmd: 'drop_party', p: D });
  const r1 = await send(B, 'alice', '6869');
  await recv(A, 'bob', r1);
  const m2 = await send(A, 'bob', '6869');
  const flip = (hex, at) => {
    const buf = Buffer.from(hex, 'hex');
    buf[at] ^= 1;
    return buf.toString('hex');
  };
  out['SignalMessage with bad MAC'] = brief(await recv(B, 'alice', { ...m2, body: flip(m2.body, Buffer.from(m2.body, 'hex').length - 1) }));
  out['SignalMessage with flipped ciphertext bit'] = brief(await recv(B, 'alice', { ...m2, body: flip(m2.body, Buffer.from(m2.body, 'hex').length - 12) }));
  out['SignalMessage with version byte 0x24'] = brief(await recv(B, 'alice', { ...m2, body: '24' + m2.body.slice(2) }));
  out['SignalMessage with version byte 0x54'] = brief(await recv(B, 'alice', { ...m2, body: '54' + m2.body.slice(2) }));
  out['genuine SignalMessage after those'] = brief(await recv(B, 'alice', m2));
  out['duplicate SignalMessage'] = brief(await recv(B, 'alice', m2));
  out['SignalMessage from unknown sender'] = brief(await peer.request({ cmd: 'decrypt', p: B, peer_name: 'dave', type: 2, body: m2.body }));
  out['encrypt without session'] = brief(await peer.request({ cmd: 'encrypt', p: A, peer_name: 'dave', pt: '00' }));
  await peer.request({ cmd: 'drop_party', p: A });
  await peer.request({ cmd: 'drop_party', p: B });
  return out;
}

async function robustness() {
  const bad = [
    'not json',
    '[]',
    '{"cmd":"nope"}',
    '{"cmd":"new_party","lib":"9.9.9","p":"x"}',
    '{"cmd":"encrypt","p":"nobody","peer_name":"bob","pt":"00"}',
    '{"cmd":"xeddsa_verify","lib":"0.72.1","public_key":"zz","msg":"","sig":""}',
    '{"cmd":"xeddsa_verify","lib":"0.72.1","public_key":"05","msg":"","sig":""}',
    '{"cmd":"parse_message","type":3,"body":"44ffffffff"}',
    '{"cmd":"decrypt","p":"nobody","type":2,"body":"00"}',
  ];
  const results = [];
  for (const line of bad) {
    const r = await peer.request(line);
    results.push([line, r.ok ? 'ok' : r.error]);
  }
  const alive = await peer.request({ cmd: 'version', lib: '0.72.1' });
  return { results, alive: alive.ok };
}

let failed = false;
const table = [];
for (const a of VERSIONS) {
  for (const b of VERSIONS) {
    const r = await conversation(a, b);
    table.push({ alice: a, bob: b, kind: 'PQXDH', ...r });
    if (a === b && !r.ok) failed = true;
  }
}
for (const b of VERSIONS) {
  table.push({ alice: '0.72.1', bob: b, kind: 'X3DH', ...(await conversation('0.72.1', b, { x3dh: true })) });
}
if (!table.find((r) => r.alice === '0.72.1' && r.bob === '0.72.1' && r.kind === 'X3DH').ok) failed = true;

const pad = (s, n) => String(s).padEnd(n);
console.log(`conversations: PreKey message + ${ROUNDS} rounds each way (alice initiates)`);
console.log('vbytes: version bytes seen; SPQR f5: SignalMessage field 5 in the first/last message of A(lice) and B(ob), y/n\n');
console.log(`${pad('alice', 8)} ${pad('bob', 8)} ${pad('kind', 6)} ${pad('result', 7)} ${pad('vbytes', 7)} ${pad('SPQR f5', 9)} detail`);
for (const r of table) {
  console.log(
    `${pad(r.alice, 8)} ${pad(r.bob, 8)} ${pad(r.kind, 6)} ${pad(r.ok ? 'works' : 'FAILS', 7)} ${pad(r.versions.join(','), 7)} ${pad(r.pq, 9)} ${r.ok ? '' : `${r.step}: ${r.error}`}`,
  );
}

for (const lib of VERSIONS) {
  console.log(`\nerror behaviour, libsignal ${lib}:`);
  for (const [k, v] of Object.entries(await behaviours(lib))) console.log(`  ${pad(k, 50)} ${v}`);
}

const rob = await robustness();
console.log('\nbad input (peer must answer each and stay up):');
for (const [line, res] of rob.results) console.log(`  ${pad(line, 76)} -> ${res}`);
console.log(`  peer still answering: ${rob.alive}`);
if (!rob.alive || rob.results.some(([, res]) => res === 'ok')) failed = true;

// import_party: keys made in one party (version X) are loaded into a new party (version Y), which
// must then decrypt a PreKey message sent to the original bundle.
console.log('\nimport_party (keys from new_party in X imported into Y; Kyber public key derived from the secret):');
for (const [x, y] of [
  ['0.72.1', '0.72.1'],
  ['0.90.0', '0.103.0'],
  ['0.103.0', '0.72.1'],
]) {
  const n = ++uniq;
  let res;
  try {
    const orig = await peer.call({ cmd: 'new_party', p: `io${n}`, lib: x, name: 'bob', registration_id: 77 });
    const s = orig.secrets;
    const b = orig.bundle;
    const imp = await peer.call({
      cmd: 'import_party', p: `ii${n}`, lib: y, name: 'bob', registration_id: 77, device_id: 1,
      identity_private: s.identity_private, identity_public: s.identity_public,
      pre_key_id: b.pre_key_id, pre_key_private: s.pre_key_private,
      signed_pre_key_id: b.signed_pre_key_id, signed_pre_key_private: s.signed_pre_key_private,
      signed_pre_key_signature: b.signed_pre_key_signature,
      kyber_pre_key_id: b.kyber_pre_key_id, kyber_secret_key: s.kyber_secret_key,
      kyber_pre_key_signature: b.kyber_pre_key_signature,
    });
    if (JSON.stringify(imp.bundle) !== JSON.stringify(b)) throw new Error('imported bundle differs');
    const alice = await conversationTo(`ia${n}`, y === '0.72.1' || x === '0.72.1' ? '0.72.1' : y, b, `ii${n}`);
    res = alice;
  } catch (e) {
    res = `FAILS: ${e.response?.error ?? e}`;
    failed = true;
  }
  console.log(`  ${x} -> ${y}: ${res}`);
}

async function conversationTo(pa, lib, bundle, pb) {
  await peer.call({ cmd: 'new_party', p: pa, lib, name: 'alice' });
  await peer.call({ cmd: 'process_bundle', p: pa, peer_name: 'bob', bundle });
  const m = await peer.call({ cmd: 'encrypt', p: pa, peer_name: 'bob', pt: '6869' });
  const d = await peer.call({ cmd: 'decrypt', p: pb, peer_name: 'alice', type: m.type, body: m.body });
  if (d.pt !== '6869') throw new Error('plaintext mismatch');
  const r = await peer.call({ cmd: 'encrypt', p: pb, peer_name: 'alice', pt: '6f6b' });
  const e = await peer.call({ cmd: 'decrypt', p: pa, peer_name: 'bob', type: r.type, body: r.body });
  if (e.pt !== '6f6b') throw new Error('plaintext mismatch');
  return `works (alice ${lib})`;
}

const sig = await behavioursXeddsa();
console.log(`\nxeddsa: sign/verify across versions: ${sig}`);

async function behavioursXeddsa() {
  const res = [];
  for (const signer of VERSIONS) {
    const p = `x${++uniq}`;
    await peer.call({ cmd: 'new_party', p, lib: signer, name: 'x' });
    const s = await peer.call({ cmd: 'xeddsa_sign', p, msg: '68656c6c6f' });
    for (const verifier of VERSIONS) {
      const v = await peer.call({ cmd: 'xeddsa_verify', lib: verifier, public_key: s.public_key, msg: '68656c6c6f', sig: s.sig });
      if (!v.valid) res.push(`${signer}->${verifier} INVALID`);
    }
    await peer.request({ cmd: 'drop_party', p });
  }
  if (res.length) failed = true;
  return res.length ? res.join('; ') : 'all 16 pairs valid';
}

await peer.close();
console.log(failed ? '\nSMOKE: FAILED' : '\nSMOKE: OK');
process.exitCode = failed ? 1 : 0;
