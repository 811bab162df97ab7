#!/usr/bin/env node
// peer.mjs plus what caudata's application-layer tests need (tests/interolm_app.rs,
// tests/interolm_migration.rs): libsignal's own serialized records of a party, so that caudata
// can import them (migration), and a few store operations on a party.
//
//   node interop/libsignal/app.mjs      (after interop/libsignal/setup.sh)
//
// The same JSON-lines protocol as peer.mjs (see README.md), with every peer.mjs command and:
//
// | cmd | arguments | result |
// |---|---|---|
// | export_records | p | identity_key_pair (IdentityKeyPair.serialize()), registration_id, pre_keys / signed_pre_keys / kyber_pre_keys: [{id, record}] (each Record.serialize()), sessions: {"name.device": SessionRecord.serialize()}, identities: {"name.device": PublicKey.serialize()} |
// | add_pre_keys | p, first_id, count, signed_pre_key_id?, kyber_pre_key_id?, timestamp? | ids made: one-time prekeys first_id…, and a signed / Kyber prekey with the given ids |
// | bundle_with | p, pre_key_id?, signed_pre_key_id, kyber_pre_key_id? | bundle made of those stored prekeys (pre_key_id null: no one-time prekey) |
// | archive_session | p, peer_name, peer_device_id | {} (SessionRecord.archiveCurrentState() on the stored record) |
// | session_info | p, peer_name, peer_device_id | has_current, archived (count of previous sessions), remote_registration_id |
//
// Only libsignal's public npm API is used.

import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

import { createPeer, decodeSessionRecord, errorResponse, toHex } from './peer.mjs';

function need(v, what) {
  if (v === undefined || v === null) throw new TypeError(`${what} is required`);
  return v;
}

export function createAppPeer() {
  const peer = createPeer();
  const party = (p) => {
    const got = peer.parties.get(need(p, 'p'));
    if (!got) throw new Error(`no party ${JSON.stringify(p)}`);
    return got;
  };

  const commands = {
    async export_records(req) {
      const me = party(req.p);
      const hex = (u8) => toHex(u8);
      const list = (m) => [...m.entries()].map(([id, r]) => ({ id, record: hex(r.serialize()) }));
      return {
        lib: me.lib.version,
        identity_key_pair: hex(me.identity.serialize()),
        registration_id: me.registrationId,
        pre_keys: list(me.preKeys),
        signed_pre_keys: list(me.signedPreKeys),
        kyber_pre_keys: list(me.kyberPreKeys),
        sessions: Object.fromEntries([...me.sessions.entries()].map(([k, v]) => [k, hex(v)])),
        identities: Object.fromEntries([...me.identities.entries()].map(([k, v]) => [k, hex(v)])),
      };
    },

    async add_pre_keys(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const ts = req.timestamp ?? Date.now();
      const first = req.first_id ?? 1;
      const made = { pre_keys: [], signed_pre_key_id: null, kyber_pre_key_id: null };
      for (let i = 0; i < (req.count ?? 0); i++) {
        const priv = L.PrivateKey.generate();
        await me.preKeyStore.savePreKey(first + i, L.PreKeyRecord.new(first + i, priv.getPublicKey(), priv));
        made.pre_keys.push(first + i);
      }
      if (req.signed_pre_key_id != null) {
        const priv = L.PrivateKey.generate();
        const pub = priv.getPublicKey();
        const sig = me.identity.privateKey.sign(me.lib.bytes(pub.serialize()));
        await me.signedPreKeyStore.saveSignedPreKey(
          req.signed_pre_key_id,
          L.SignedPreKeyRecord.new(req.signed_pre_key_id, ts, pub, priv, sig),
        );
        made.signed_pre_key_id = req.signed_pre_key_id;
      }
      if (req.kyber_pre_key_id != null) {
        const kp = L.KEMKeyPair.generate();
        const sig = me.identity.privateKey.sign(me.lib.bytes(kp.getPublicKey().serialize()));
        await me.kyberPreKeyStore.saveKyberPreKey(
          req.kyber_pre_key_id,
          L.KyberPreKeyRecord.new(req.kyber_pre_key_id, ts, kp, sig),
        );
        made.kyber_pre_key_id = req.kyber_pre_key_id;
      }
      return made;
    },

    async bundle_with(req) {
      const me = party(req.p);
      const spk = me.signedPreKeys.get(need(req.signed_pre_key_id, 'signed_pre_key_id'));
      if (!spk) throw new Error(`no signed prekey ${req.signed_pre_key_id}`);
      const opk = req.pre_key_id == null ? null : me.preKeys.get(req.pre_key_id);
      if (req.pre_key_id != null && !opk) throw new Error(`no one-time prekey ${req.pre_key_id}`);
      const kpk = req.kyber_pre_key_id == null ? null : me.kyberPreKeys.get(req.kyber_pre_key_id);
      if (req.kyber_pre_key_id != null && !kpk) throw new Error(`no Kyber prekey ${req.kyber_pre_key_id}`);
      return {
        bundle: {
          registration_id: me.registrationId,
          device_id: me.deviceId,
          identity_key: toHex(me.identity.publicKey.serialize()),
          pre_key_id: opk ? opk.id() : null,
          pre_key: opk ? toHex(opk.publicKey().serialize()) : null,
          signed_pre_key_id: spk.id(),
          signed_pre_key: toHex(spk.publicKey().serialize()),
          signed_pre_key_signature: toHex(spk.signature()),
          kyber_pre_key_id: kpk ? kpk.id() : null,
          kyber_pre_key: kpk ? toHex(kpk.publicKey().serialize()) : null,
          kyber_pre_key_signature: kpk ? toHex(kpk.signature()) : null,
        },
      };
    },

    async archive_session(req) {
      const me = party(req.p);
      const k = `${need(req.peer_name, 'peer_name')}.${need(req.peer_device_id, 'peer_device_id')}`;
      const raw = me.sessions.get(k);
      if (!raw) throw new Error(`no session with ${k}`);
      const rec = me.lib.L.SessionRecord.deserialize(me.lib.bytes(raw));
      rec.archiveCurrentState();
      me.sessions.set(k, Buffer.from(rec.serialize()));
      return {};
    },

    async session_info(req) {
      const me = party(req.p);
      const k = `${need(req.peer_name, 'peer_name')}.${need(req.peer_device_id, 'peer_device_id')}`;
      const raw = me.sessions.get(k);
      if (!raw) return { has_session: false };
      const rec = me.lib.L.SessionRecord.deserialize(me.lib.bytes(raw));
      const decoded = decodeSessionRecord(raw);
      return {
        has_session: true,
        has_current: rec.hasCurrentState(),
        archived: decoded.previous_sessions.length,
        remote_registration_id: decoded.current_session?.remote_registration_id ?? null,
      };
    },
  };

  async function handle(req) {
    if (req && typeof req === 'object' && Object.hasOwn(commands, req.cmd)) {
      const id = 'id' in req ? { id: req.id } : {};
      try {
        return { ...id, ok: true, ...(await commands[req.cmd](req)) };
      } catch (e) {
        const lib = typeof req.p === 'string' ? peer.parties.get(req.p)?.lib ?? null : null;
        return { ...id, ...errorResponse(e, lib) };
      }
    }
    return peer.handle(req);
  }

  return { handle, parties: peer.parties };
}

async function main() {
  const peer = createAppPeer();
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
  process.on('uncaughtException', (e) => process.stderr.write(`app.mjs: uncaught ${e?.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`app.mjs: unhandled rejection ${e?.stack ?? e}\n`));
  main().catch((e) => {
    process.stderr.write(`app.mjs: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
