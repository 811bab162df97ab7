#!/usr/bin/env node
// A live libsignal peer for caudata's interolm interop tests, spoken to over JSON lines.
//
//   node interop/libsignal/peer.mjs      (after interop/libsignal/setup.sh)
//
// Reads one JSON object per line on stdin and writes exactly one JSON line per request on
// stdout, until EOF. Request: {"cmd": ..., ...}; an optional "id" is echoed back. Response:
// {"ok": true, ...} or {"ok": false, "error": "<Class: message>", "code": <number>, ...}.
// Binary values are lowercase hex, in and out. Blank lines are ignored.
//
// Several libsignal versions are loaded side by side (npm aliases, see package.json); each
// party lives in one of them. Only libsignal's public npm API is used.
//
// The module can also be imported (test-vectors/interolm/generate.mjs does): `createPeer()`
// returns an object whose `handle(request)` resolves to the response object.

import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Library versions

export const LIBS = {
  '0.72.1': 'ls072',
  '0.90.0': 'ls090',
  '0.92.2': 'ls0922',
  '0.103.0': 'ls0103',
};

const libCache = new Map();

async function loadLib(version) {
  if (typeof version !== 'string' || !(version in LIBS)) {
    throw new TypeError(`unknown lib ${JSON.stringify(version)}; one of ${Object.keys(LIBS).join(', ')}`);
  }
  let lib = libCache.get(version);
  if (lib) return lib;
  const mod = await import(LIBS[version]);
  // 0.72.1 is CommonJS (everything hangs off `default`); 0.90+ are ES modules.
  const L = mod.default && typeof mod.default.PrivateKey === 'function' ? mod.default : mod;
  lib = makeLib(version, L);
  libCache.set(version, lib);
  return lib;
}

// The API differences between the versions, in one place.
function makeLib(version, L) {
  const lib = { version, L };
  // 0.72.1 takes Node Buffers; 0.90+ are typed `Uint8Array<ArrayBuffer>`. A fresh Buffer (its
  // own ArrayBuffer, offset 0) satisfies both.
  lib.bytes = (u8) => {
    const b = Buffer.alloc(u8.length);
    b.set(u8);
    return b;
  };
  // Where the `localAddress` argument was added (detected from arity, checked against what the
  // .d.ts files say: 0.92 added it to signalEncrypt and signalDecryptPreKey, 0.103 also to
  // processPreKeyBundle and signalDecrypt).
  lib.localAddr = {
    processPreKeyBundle: L.processPreKeyBundle.length === 5,
    signalEncrypt: L.signalEncrypt.length === 5,
    signalDecrypt: L.signalDecrypt.length === 5,
    signalDecryptPreKey: L.signalDecryptPreKey.length === 8,
  };
  // 0.72.1 marks a Kyber prekey used with (id); 0.90+ with (id, signedPreKeyId, baseKey).
  // 0.72.1's PreKeyBundle takes the Kyber fields as optional (X3DH without them); 0.90+ require them.
  lib.kyberOptional = version === '0.72.1';
  return lib;
}

// ---------------------------------------------------------------------------------------------
// Hex and small helpers

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function fromHex(value, what) {
  if (typeof value !== 'string' || !HEX_RE.test(value)) {
    throw new TypeError(`${what} must be a hex string of even length`);
  }
  return Buffer.from(value, 'hex');
}

function optHex(value, what) {
  return value === undefined || value === null ? null : fromHex(value, what);
}

export function toHex(u8) {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');
}

function u32(value, what, dflt) {
  if (value === undefined || value === null) {
    if (dflt !== undefined) return dflt;
    throw new TypeError(`${what} is required`);
  }
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TypeError(`${what} must be an integer in 0..2^32-1`);
  }
  return value;
}

function str(value, what, dflt) {
  if (value === undefined || value === null) {
    if (dflt !== undefined) return dflt;
    throw new TypeError(`${what} is required`);
  }
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// A minimal protobuf reader/writer (varint, fixed64, length-delimited, fixed32)

export function pbRead(buf) {
  const fields = [];
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new RangeError('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) throw new RangeError('varint too long');
    }
    return v;
  };
  while (i < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new RangeError('field number 0');
    if (wire === 0) {
      fields.push({ field, wire, value: varint() });
    } else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new RangeError('truncated length-delimited field');
      fields.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      if (i + 8 > buf.length) throw new RangeError('truncated fixed64');
      fields.push({ field, wire, value: buf.readBigUInt64LE(i) });
      i += 8;
    } else if (wire === 5) {
      if (i + 4 > buf.length) throw new RangeError('truncated fixed32');
      fields.push({ field, wire, value: BigInt(buf.readUInt32LE(i)) });
      i += 4;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

function pbVarint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

export function pbWrite(fields) {
  const parts = [];
  for (const [field, kind, value] of fields) {
    if (value === null || value === undefined) continue;
    if (kind === 'varint') {
      parts.push(pbVarint((field << 3) | 0), pbVarint(value));
    } else if (kind === 'bytes') {
      parts.push(pbVarint((field << 3) | 2), pbVarint(value.length), Buffer.from(value));
    } else if (kind === 'fixed64') {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(value));
      parts.push(pbVarint((field << 3) | 1), b);
    } else {
      throw new Error(`pbWrite: unknown kind ${kind}`);
    }
  }
  return Buffer.concat(parts);
}

const num = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

// Schema-guided decoding to JSON. A schema maps field number -> [name, type, repeated?];
// type is 'uint' | 'bool' | 'bytes' | 'fixed64' | a nested schema object. Unknown fields are
// kept under their number: varints as numbers, bytes as hex (plus a trial decoding as a message
// under "<n>_as_message" when that parses cleanly, which helps to discover layouts).
export function pbDecode(buf, schema = {}) {
  const out = {};
  for (const { field, wire, value } of pbRead(buf)) {
    const spec = schema[field];
    let name;
    let v;
    let repeated = false;
    if (spec) {
      const [n, type, rep] = spec;
      name = n;
      repeated = !!rep;
      if (typeof type === 'object') {
        if (wire !== 2) throw new RangeError(`field ${field} (${n}): expected a message`);
        v = pbDecode(value, type);
      } else if (type === 'bytes') {
        if (wire !== 2) throw new RangeError(`field ${field} (${n}): expected bytes`);
        v = toHex(value);
      } else if (type === 'bool') {
        v = value !== 0n;
      } else {
        v = wire === 2 ? toHex(value) : num(value);
      }
    } else {
      name = String(field);
      if (wire === 2) {
        v = toHex(value);
        try {
          if (value.length > 0) {
            const trial = pbDecode(value);
            if (Object.keys(trial).length > 0) out[`${field}_as_message`] = trial;
          }
        } catch {
          // not a message
        }
      } else {
        v = num(value);
      }
    }
    if (repeated) {
      (out[name] ??= []).push(v);
    } else if (name in out) {
      // An unknown field seen twice: make it a list.
      out[name] = Array.isArray(out[name]) ? [...out[name], v] : [out[name], v];
    } else {
      out[name] = v;
    }
  }
  return out;
}

// libsignal's storage layout of a SessionRecord, as observed (see test-vectors/interolm/README.md).
const CHAIN_KEY = { 1: ['index', 'uint'], 2: ['key', 'bytes'] };
const MESSAGE_KEY = {
  1: ['index', 'uint'],
  2: ['cipher_key', 'bytes'],
  3: ['mac_key', 'bytes'],
  4: ['iv', 'bytes'],
  5: ['seed', 'bytes'],
};
const CHAIN = {
  1: ['sender_ratchet_key', 'bytes'],
  2: ['sender_ratchet_key_private', 'bytes'],
  3: ['chain_key', CHAIN_KEY],
  4: ['message_keys', MESSAGE_KEY, true],
};
const PENDING_PRE_KEY = {
  1: ['pre_key_id', 'uint'],
  2: ['base_key', 'bytes'],
  3: ['signed_pre_key_id', 'uint'],
  4: ['timestamp', 'uint'], // seconds since the epoch
};
export const SESSION_STRUCTURE = {
  1: ['session_version', 'uint'],
  2: ['local_identity_public', 'bytes'],
  3: ['remote_identity_public', 'bytes'],
  4: ['root_key', 'bytes'],
  5: ['previous_counter', 'uint'],
  6: ['sender_chain', CHAIN],
  7: ['receiver_chains', CHAIN, true],
  9: ['pending_pre_key', PENDING_PRE_KEY],
  10: ['remote_registration_id', 'uint'],
  11: ['local_registration_id', 'uint'],
  12: ['needs_refresh', 'bool'],
  13: ['alice_base_key', 'bytes'],
  14: ['pending_kyber_pre_key', { 1: ['pre_key_id', 'uint'], 2: ['ciphertext', 'bytes'] }],
  15: ['pq_ratchet_state', 'bytes'], // SPQR state (0.90+), opaque here
};

export function decodeSessionRecord(bytes) {
  const top = pbRead(bytes);
  const record = { current_session: null, previous_sessions: [] };
  for (const { field, wire, value } of top) {
    if (field === 1 && wire === 2) record.current_session = pbDecode(value, SESSION_STRUCTURE);
    else if (field === 2 && wire === 2) record.previous_sessions.push(pbDecode(value, SESSION_STRUCTURE));
    else record[String(field)] = wire === 2 ? toHex(value) : num(value);
  }
  return record;
}

// The flat summary of the current session that tests want.
export function summarizeSession(s) {
  if (!s) return null;
  const sc = s.sender_chain ?? {};
  return {
    session_version: s.session_version ?? null,
    root_key: s.root_key ?? null,
    previous_counter: s.previous_counter ?? 0,
    sender_ratchet_key: sc.sender_ratchet_key ?? null,
    sender_ratchet_private: sc.sender_ratchet_key_private ?? null,
    sender_chain_key: sc.chain_key?.key ?? null,
    sender_chain_index: sc.chain_key ? sc.chain_key.index ?? 0 : null,
    receiver_chains: (s.receiver_chains ?? []).map((c) => ({
      ratchet_key: c.sender_ratchet_key ?? null,
      chain_key: c.chain_key?.key ?? null,
      index: c.chain_key ? c.chain_key.index ?? 0 : null,
      skipped_message_keys: (c.message_keys ?? []).length,
    })),
    local_identity_public: s.local_identity_public ?? null,
    remote_identity_public: s.remote_identity_public ?? null,
    local_registration_id: s.local_registration_id ?? null,
    remote_registration_id: s.remote_registration_id ?? null,
    alice_base_key: s.alice_base_key ?? null,
    pending_pre_key: s.pending_pre_key ?? null,
    pq_ratchet_state_len: s.pq_ratchet_state ? s.pq_ratchet_state.length / 2 : 0,
  };
}

// Wire messages: SignalMessage = vb ‖ pb ‖ mac(8); PreKeySignalMessage = vb ‖ pb.
const SIGNAL_MESSAGE = {
  1: ['ratchet_key', 'bytes'],
  2: ['counter', 'uint'],
  3: ['previous_counter', 'uint'],
  4: ['ciphertext', 'bytes'],
  5: ['pq_ratchet', 'bytes'],
  6: ['addresses', 'bytes'],
};
const PREKEY_MESSAGE = {
  1: ['pre_key_id', 'uint'],
  2: ['base_key', 'bytes'],
  3: ['identity_key', 'bytes'],
  4: ['message', 'bytes'],
  5: ['registration_id', 'uint'],
  6: ['signed_pre_key_id', 'uint'],
  7: ['kyber_pre_key_id', 'uint'],
  8: ['kyber_ciphertext', 'bytes'],
};

export function parseSignalMessage(bytes) {
  if (bytes.length < 9) throw new RangeError('SignalMessage too short');
  const out = {
    version_byte: bytes[0],
    ...pbDecode(bytes.subarray(1, bytes.length - 8), SIGNAL_MESSAGE),
    mac: toHex(bytes.subarray(bytes.length - 8)),
  };
  return out;
}

export function parseMessage(type, bytes) {
  if (type === 2) return parseSignalMessage(bytes);
  if (type === 3) {
    if (bytes.length < 1) throw new RangeError('PreKeySignalMessage too short');
    const out = { version_byte: bytes[0], ...pbDecode(bytes.subarray(1), PREKEY_MESSAGE) };
    if (out.message) out.message_parsed = parseSignalMessage(Buffer.from(out.message, 'hex'));
    return out;
  }
  throw new RangeError(`unsupported message type ${type}`);
}

// ---------------------------------------------------------------------------------------------
// Parties and their in-memory stores

class Party {
  constructor(lib, name, deviceId, registrationId, identity) {
    this.lib = lib;
    this.name = name;
    this.deviceId = deviceId;
    this.registrationId = registrationId;
    this.identity = identity; // IdentityKeyPair
    this.sessions = new Map(); // "name.device" -> serialized SessionRecord (Buffer)
    this.identities = new Map(); // "name.device" -> serialized PublicKey
    this.preKeys = new Map(); // id -> PreKeyRecord
    this.signedPreKeys = new Map(); // id -> SignedPreKeyRecord
    this.kyberPreKeys = new Map(); // id -> KyberPreKeyRecord
    this.kyberUsed = []; // log of markKyberPreKeyUsed calls
    this.removedPreKeys = []; // log of removePreKey calls
    this.localAddress = lib.L.ProtocolAddress.new(name, deviceId);
    this.makeStores();
  }

  makeStores() {
    const { L } = this.lib;
    const party = this;
    const key = (addr) => `${addr.name()}.${addr.deviceId()}`;

    class Sessions extends L.SessionStore {
      async saveSession(addr, record) {
        party.sessions.set(key(addr), Buffer.from(record.serialize()));
      }
      async getSession(addr) {
        const raw = party.sessions.get(key(addr));
        return raw ? L.SessionRecord.deserialize(party.lib.bytes(raw)) : null;
      }
      async getExistingSessions(addrs) {
        return Promise.all(
          addrs.map(async (a) => {
            const s = await this.getSession(a);
            if (!s) throw new Error(`no session for ${key(a)}`);
            return s;
          }),
        );
      }
    }

    class Identities extends L.IdentityKeyStore {
      async getIdentityKey() {
        return party.identity.privateKey;
      }
      async getIdentityKeyPair() {
        return party.identity;
      }
      async getLocalRegistrationId() {
        return party.registrationId;
      }
      async saveIdentity(addr, pub) {
        const k = key(addr);
        const next = Buffer.from(pub.serialize());
        const prev = party.identities.get(k);
        party.identities.set(k, next);
        const changed = prev !== undefined && !prev.equals(next);
        return changed ? L.IdentityChange.ReplacedExisting : L.IdentityChange.NewOrUnchanged;
      }
      async isTrustedIdentity() {
        return true; // trusts everything
      }
      async getIdentity(addr) {
        const raw = party.identities.get(key(addr));
        return raw ? L.PublicKey.deserialize(party.lib.bytes(raw)) : null;
      }
    }

    class PreKeys extends L.PreKeyStore {
      async savePreKey(id, record) {
        party.preKeys.set(id, record);
      }
      async getPreKey(id) {
        const r = party.preKeys.get(id);
        if (!r) throw new Error(`no one-time prekey with id ${id}`);
        return r;
      }
      async removePreKey(id) {
        party.removedPreKeys.push(id);
        party.preKeys.delete(id);
      }
    }

    class SignedPreKeys extends L.SignedPreKeyStore {
      async saveSignedPreKey(id, record) {
        party.signedPreKeys.set(id, record);
      }
      async getSignedPreKey(id) {
        const r = party.signedPreKeys.get(id);
        if (!r) throw new Error(`no signed prekey with id ${id}`);
        return r;
      }
    }

    class KyberPreKeys extends L.KyberPreKeyStore {
      async saveKyberPreKey(id, record) {
        party.kyberPreKeys.set(id, record);
      }
      async getKyberPreKey(id) {
        const r = party.kyberPreKeys.get(id);
        if (!r) throw new Error(`no kyber prekey with id ${id}`);
        return r;
      }
      // 0.72.1: (id); 0.90+: (id, signedPreKeyId, baseKey). Kept (last-resort behaviour).
      async markKyberPreKeyUsed(id, signedPreKeyId, baseKey) {
        party.kyberUsed.push({
          kyber_pre_key_id: id,
          signed_pre_key_id: signedPreKeyId ?? null,
          base_key: baseKey ? toHex(baseKey.serialize()) : null,
        });
      }
    }

    this.sessionStore = new Sessions();
    this.identityStore = new Identities();
    this.preKeyStore = new PreKeys();
    this.signedPreKeyStore = new SignedPreKeys();
    this.kyberPreKeyStore = new KyberPreKeys();
  }

  address(peerName, peerDevice) {
    return this.lib.L.ProtocolAddress.new(peerName, peerDevice);
  }

  bundle() {
    const spk = [...this.signedPreKeys.values()].at(-1);
    const opk = [...this.preKeys.values()].at(-1);
    const kpk = [...this.kyberPreKeys.values()].at(-1);
    const out = {
      registration_id: this.registrationId,
      device_id: this.deviceId,
      identity_key: toHex(this.identity.publicKey.serialize()),
      pre_key_id: opk ? opk.id() : null,
      pre_key: opk ? toHex(opk.publicKey().serialize()) : null,
      signed_pre_key_id: spk ? spk.id() : null,
      signed_pre_key: spk ? toHex(spk.publicKey().serialize()) : null,
      signed_pre_key_signature: spk ? toHex(spk.signature()) : null,
      kyber_pre_key_id: kpk ? kpk.id() : null,
      kyber_pre_key: kpk ? toHex(kpk.publicKey().serialize()) : null,
      kyber_pre_key_signature: kpk ? toHex(kpk.signature()) : null,
    };
    return out;
  }

  secrets() {
    const spk = [...this.signedPreKeys.values()].at(-1);
    const opk = [...this.preKeys.values()].at(-1);
    const kpk = [...this.kyberPreKeys.values()].at(-1);
    return {
      identity_private: toHex(this.identity.privateKey.serialize()),
      identity_public: toHex(this.identity.publicKey.serialize()),
      pre_key_private: opk ? toHex(opk.privateKey().serialize()) : null,
      signed_pre_key_private: spk ? toHex(spk.privateKey().serialize()) : null,
      kyber_secret_key: kpk ? toHex(kpk.secretKey().serialize()) : null,
    };
  }
}

// Kyber1024 (round 3) secret key layout: sk_pke(1536) ‖ pk(1568) ‖ H(pk)(32) ‖ z(32); libsignal
// serializes keys with a leading type byte 0x08.
function kyberPublicFromSecret(sk) {
  if (sk.length !== 3169 || sk[0] !== 0x08) throw new RangeError('kyber_secret_key must be 3169 bytes starting 08');
  return Buffer.concat([Buffer.from([0x08]), sk.subarray(1 + 1536, 1 + 1536 + 1568)]);
}

// ---------------------------------------------------------------------------------------------
// Commands

export function createPeer() {
  const parties = new Map();

  const party = (p) => {
    const got = parties.get(str(p, 'p'));
    if (!got) throw new Error(`no party ${JSON.stringify(p)}`);
    return got;
  };

  const timestamp = () => Date.now();

  async function newParty(req, imported) {
    const lib = await loadLib(req.lib);
    const { L } = lib;
    const p = str(req.p, 'p');
    const name = str(req.name, 'name', p);
    const deviceId = u32(req.device_id, 'device_id', 1);
    const registrationId = u32(req.registration_id, 'registration_id', 1 + Math.floor(Math.random() * 16380));

    let identity;
    if (imported) {
      const priv = L.PrivateKey.deserialize(lib.bytes(fromHex(req.identity_private, 'identity_private')));
      const pub = priv.getPublicKey();
      if (req.identity_public != null) {
        const given = fromHex(req.identity_public, 'identity_public');
        if (!given.equals(Buffer.from(pub.serialize()))) {
          throw new Error('identity_public does not match identity_private');
        }
      }
      identity = new L.IdentityKeyPair(pub, priv);
    } else {
      identity = L.IdentityKeyPair.generate();
    }
    const party = new Party(lib, name, deviceId, registrationId, identity);
    const ts = timestamp();

    // One-time prekey.
    const preKeyId = u32(req.pre_key_id, 'pre_key_id', 31);
    if (!imported || req.pre_key_private != null) {
      const priv = imported
        ? L.PrivateKey.deserialize(lib.bytes(fromHex(req.pre_key_private, 'pre_key_private')))
        : L.PrivateKey.generate();
      await party.preKeyStore.savePreKey(preKeyId, L.PreKeyRecord.new(preKeyId, priv.getPublicKey(), priv));
    }

    // Signed prekey.
    const spkId = u32(req.signed_pre_key_id, 'signed_pre_key_id', 17);
    if (!imported || req.signed_pre_key_private != null) {
      const priv = imported
        ? L.PrivateKey.deserialize(lib.bytes(fromHex(req.signed_pre_key_private, 'signed_pre_key_private')))
        : L.PrivateKey.generate();
      const pub = priv.getPublicKey();
      const sig =
        imported && req.signed_pre_key_signature != null
          ? lib.bytes(fromHex(req.signed_pre_key_signature, 'signed_pre_key_signature'))
          : identity.privateKey.sign(lib.bytes(pub.serialize()));
      await party.signedPreKeyStore.saveSignedPreKey(spkId, L.SignedPreKeyRecord.new(spkId, ts, pub, priv, sig));
    }

    // Kyber1024 prekey.
    const kyberId = u32(req.kyber_pre_key_id, 'kyber_pre_key_id', 23);
    if (!imported) {
      const kp = L.KEMKeyPair.generate();
      const sig = identity.privateKey.sign(lib.bytes(kp.getPublicKey().serialize()));
      await party.kyberPreKeyStore.saveKyberPreKey(kyberId, L.KyberPreKeyRecord.new(kyberId, ts, kp, sig));
    } else if (req.kyber_secret_key != null) {
      // There is no public constructor from key parts, so build the stored record (observed
      // layout: 1 id, 2 public key, 3 secret key, 4 signature, 5 timestamp fixed64) and
      // deserialize it.
      const sk = fromHex(req.kyber_secret_key, 'kyber_secret_key');
      const pk = req.kyber_public_key != null ? fromHex(req.kyber_public_key, 'kyber_public_key') : kyberPublicFromSecret(sk);
      const sig =
        req.kyber_pre_key_signature != null
          ? fromHex(req.kyber_pre_key_signature, 'kyber_pre_key_signature')
          : Buffer.from(identity.privateKey.sign(lib.bytes(pk)));
      const raw = pbWrite([
        [1, 'varint', kyberId],
        [2, 'bytes', pk],
        [3, 'bytes', sk],
        [4, 'bytes', sig],
        [5, 'fixed64', ts],
      ]);
      const record = L.KyberPreKeyRecord.deserialize(lib.bytes(raw));
      // Touch the keys so that a malformed key fails here, not in the middle of a decrypt.
      record.publicKey().serialize();
      record.secretKey().serialize();
      await party.kyberPreKeyStore.saveKyberPreKey(kyberId, record);
    }

    parties.set(p, party);
    return { lib: lib.version, bundle: party.bundle(), secrets: party.secrets() };
  }

  async function processBundle(req) {
    const me = party(req.p);
    const { L } = me.lib;
    const b = req.bundle;
    if (!b || typeof b !== 'object') throw new TypeError('bundle is required');
    const lib = me.lib;
    const pub = (hex, what) => L.PublicKey.deserialize(lib.bytes(fromHex(hex, what)));
    const preKeyId = b.pre_key_id ?? null;
    const preKey = b.pre_key != null ? pub(b.pre_key, 'pre_key') : null;
    if ((preKeyId === null) !== (preKey === null)) throw new TypeError('pre_key_id and pre_key go together');
    const hasKyber = b.kyber_pre_key != null;
    if (!hasKyber && !lib.kyberOptional) throw new TypeError(`libsignal ${lib.version} requires the kyber_* bundle fields`);
    const args = [
      u32(b.registration_id, 'bundle.registration_id'),
      u32(b.device_id, 'bundle.device_id', 1),
      preKeyId === null ? null : u32(preKeyId, 'bundle.pre_key_id'),
      preKey,
      u32(b.signed_pre_key_id, 'bundle.signed_pre_key_id'),
      pub(b.signed_pre_key, 'bundle.signed_pre_key'),
      lib.bytes(fromHex(b.signed_pre_key_signature, 'bundle.signed_pre_key_signature')),
      pub(b.identity_key, 'bundle.identity_key'),
    ];
    if (hasKyber) {
      args.push(
        u32(b.kyber_pre_key_id, 'bundle.kyber_pre_key_id'),
        L.KEMPublicKey.deserialize(lib.bytes(fromHex(b.kyber_pre_key, 'bundle.kyber_pre_key'))),
        lib.bytes(fromHex(b.kyber_pre_key_signature, 'bundle.kyber_pre_key_signature')),
      );
    }
    const bundle = L.PreKeyBundle.new(...args);
    const peerName = str(req.peer_name, 'peer_name');
    const addr = me.address(peerName, u32(req.peer_device_id, 'peer_device_id', 1));
    if (req.use_pq_ratchet !== undefined) {
      throw new TypeError(`libsignal ${lib.version} has no use_pq_ratchet argument in processPreKeyBundle`);
    }
    if (lib.localAddr.processPreKeyBundle) {
      await L.processPreKeyBundle(bundle, addr, me.localAddress, me.sessionStore, me.identityStore);
    } else {
      await L.processPreKeyBundle(bundle, addr, me.sessionStore, me.identityStore);
    }
    return {};
  }

  async function encrypt(req) {
    const me = party(req.p);
    const { L } = me.lib;
    const addr = me.address(str(req.peer_name, 'peer_name'), u32(req.peer_device_id, 'peer_device_id', 1));
    const pt = me.lib.bytes(fromHex(req.pt, 'pt'));
    const msg = me.lib.localAddr.signalEncrypt
      ? await L.signalEncrypt(pt, addr, me.localAddress, me.sessionStore, me.identityStore)
      : await L.signalEncrypt(pt, addr, me.sessionStore, me.identityStore);
    return { type: msg.type(), body: toHex(msg.serialize()) };
  }

  async function decrypt(req) {
    const me = party(req.p);
    const { L } = me.lib;
    const lib = me.lib;
    const addr = me.address(str(req.peer_name, 'peer_name'), u32(req.peer_device_id, 'peer_device_id', 1));
    const body = lib.bytes(fromHex(req.body, 'body'));
    let pt;
    if (req.type === 3) {
      const m = L.PreKeySignalMessage.deserialize(body);
      const stores = [me.sessionStore, me.identityStore, me.preKeyStore, me.signedPreKeyStore, me.kyberPreKeyStore];
      pt = lib.localAddr.signalDecryptPreKey
        ? await L.signalDecryptPreKey(m, addr, me.localAddress, ...stores)
        : await L.signalDecryptPreKey(m, addr, ...stores);
    } else if (req.type === 2) {
      const m = L.SignalMessage.deserialize(body);
      pt = lib.localAddr.signalDecrypt
        ? await L.signalDecrypt(m, addr, me.localAddress, me.sessionStore, me.identityStore)
        : await L.signalDecrypt(m, addr, me.sessionStore, me.identityStore);
    } else {
      throw new TypeError('type must be 2 (SignalMessage) or 3 (PreKeySignalMessage)');
    }
    return { pt: toHex(pt) };
  }

  function rawSession(req) {
    const me = party(req.p);
    const k = `${str(req.peer_name, 'peer_name')}.${u32(req.peer_device_id, 'peer_device_id', 1)}`;
    return { me, raw: me.sessions.get(k) ?? null };
  }

  const commands = {
    async version(req) {
      const lib = await loadLib(req.lib);
      const L = lib.L;
      return {
        lib: lib.version,
        package: LIBS[lib.version],
        local_address_args: lib.localAddr,
        kyber_optional_in_bundle: lib.kyberOptional,
        error_codes: Object.fromEntries(Object.entries(L.ErrorCode).filter(([k]) => isNaN(Number(k)))),
      };
    },
    new_party: (req) => newParty(req, false),
    import_party: (req) => newParty(req, true),
    async export_party(req) {
      const me = party(req.p);
      return {
        lib: me.lib.version,
        name: me.name,
        device_id: me.deviceId,
        bundle: me.bundle(),
        secrets: me.secrets(),
        removed_pre_keys: me.removedPreKeys,
        kyber_pre_keys_used: me.kyberUsed,
      };
    },
    process_bundle: processBundle,
    encrypt,
    decrypt,
    async has_session(req) {
      const { me, raw } = rawSession(req);
      if (!raw) return { has_session: false, has_current_state: false };
      const rec = me.lib.L.SessionRecord.deserialize(me.lib.bytes(raw));
      return { has_session: true, has_current_state: rec.hasCurrentState() };
    },
    async session_state(req) {
      const { raw } = rawSession(req);
      if (!raw) return { record: null, decoded: null, state: null };
      const decoded = decodeSessionRecord(raw);
      return { record: toHex(raw), decoded, state: summarizeSession(decoded.current_session) };
    },
    async parse_message(req) {
      return { parsed: parseMessage(req.type, fromHex(req.body, 'body')) };
    },
    async xeddsa_sign(req) {
      const me = party(req.p);
      const sig = me.identity.privateKey.sign(me.lib.bytes(fromHex(req.msg, 'msg')));
      return { public_key: toHex(me.identity.publicKey.serialize()), sig: toHex(sig) };
    },
    async xeddsa_verify(req) {
      const lib = await loadLib(req.lib);
      const pk = lib.L.PublicKey.deserialize(lib.bytes(fromHex(req.public_key, 'public_key')));
      return { valid: pk.verify(lib.bytes(fromHex(req.msg, 'msg')), lib.bytes(fromHex(req.sig, 'sig'))) };
    },
    async drop_party(req) {
      return { dropped: parties.delete(str(req.p, 'p')) };
    },
    async list_parties() {
      return {
        parties: [...parties.entries()].map(([p, x]) => ({ p, lib: x.lib.version, name: x.name, device_id: x.deviceId })),
      };
    },
  };

  async function handle(req) {
    const id = req && typeof req === 'object' && 'id' in req ? { id: req.id } : {};
    try {
      if (!req || typeof req !== 'object' || Array.isArray(req)) throw new TypeError('request must be a JSON object');
      const fn = Object.hasOwn(commands, req.cmd) ? commands[req.cmd] : null;
      if (!fn) throw new TypeError(`unknown cmd ${JSON.stringify(req.cmd)}`);
      return { ...id, ok: true, ...(await fn(req)) };
    } catch (e) {
      let lib = null;
      if (req && typeof req === 'object') {
        lib = (typeof req.p === 'string' && parties.get(req.p)?.lib) || libCache.get(req.lib) || null;
      }
      return { ...id, ...errorResponse(e, lib) };
    }
  }

  return { handle, parties };
}

// `lib` (when known) is the library the request used: ErrorCode numbers differ between versions,
// and libsignal may overwrite `error.name` with an extra property (InvalidProtocolAddress carries
// the address's `name`), so the code's name is looked up in that version's ErrorCode.
export function errorResponse(e, lib = null) {
  const out = { ok: false };
  if (e instanceof Error && typeof e.code === 'number' && typeof e.operation === 'string') {
    const codeName = (lib && lib.L.ErrorCode[e.code]) || (typeof e.name === 'string' ? e.name : 'Unknown');
    out.error = `${codeName === 'Generic' || codeName === 'LibSignalError' ? 'LibSignalError' : codeName}: ${e.message}`;
    out.code = e.code;
    out.code_name = codeName === 'LibSignalError' ? 'Generic' : codeName;
    out.operation = e.operation;
  } else if (e instanceof Error) {
    out.error = `${e.name}: ${e.message}`;
  } else {
    out.error = `Error: ${String(e)}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main() {
  const peer = createPeer();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let resp;
    try {
      resp = await peer.handle(JSON.parse(line));
    } catch (e) {
      resp = errorResponse(e);
    }
    let text;
    try {
      text = JSON.stringify(resp, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    } catch (e) {
      text = JSON.stringify(errorResponse(e));
    }
    process.stdout.write(text + '\n');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('uncaughtException', (e) => process.stderr.write(`peer.mjs: uncaught ${e?.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`peer.mjs: unhandled rejection ${e?.stack ?? e}\n`));
  main().catch((e) => {
    process.stderr.write(`peer.mjs: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
