#!/usr/bin/env node
// A live libsignal peer for what an application needs beyond one session: sender keys (groups),
// sealed sender (v1, v2, multi-recipient; certificates and trust roots), retry receipts
// (DecryptionErrorMessage, PlaintextContent) and safety numbers (fingerprints).
//
//   node interop/libsignal/groups.mjs      (after interop/libsignal/setup.sh)
//
// It speaks peer.mjs's JSON-lines protocol and understands every peer.mjs command too (parties,
// bundles, 1:1 sessions), so one process holds a party's sessions and its group state. The
// extra commands are listed in README.md ("groups.mjs"). All bytes are lowercase hex. Only
// libsignal's public npm API is used.

import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createPeer, errorResponse, toHex, LIBS } from './peer.mjs';

const libCache = new Map();

async function loadL(version) {
  if (typeof version !== 'string' || !(version in LIBS)) {
    throw new TypeError(`unknown lib ${JSON.stringify(version)}; one of ${Object.keys(LIBS).join(', ')}`);
  }
  let L = libCache.get(version);
  if (L) return L;
  const mod = await import(LIBS[version]);
  const lib = mod.default && typeof mod.default.PrivateKey === 'function' ? mod.default : mod;
  const multi = await import(`${LIBS[version]}/dist/SealedSenderMultiRecipientMessage.js`);
  // ES module namespaces are frozen: wrap instead of adding a property.
  L = Object.create(lib);
  L.MultiRecipientMessage = typeof multi.default === 'function' ? multi.default : multi.default.default;
  libCache.set(version, L);
  return L;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hex(value, what) {
  if (typeof value !== 'string' || !HEX_RE.test(value)) throw new TypeError(`${what} must be a hex string of even length`);
  // A fresh Buffer (its own ArrayBuffer) suits every version's byte types.
  const b = Buffer.from(value, 'hex');
  const out = Buffer.alloc(b.length);
  out.set(b);
  return out;
}

function optHex(value, what) {
  return value === undefined || value === null ? null : hex(value, what);
}

function int(value, what, dflt) {
  if (value === undefined || value === null) {
    if (dflt !== undefined) return dflt;
    throw new TypeError(`${what} is required`);
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${what} must be a non-negative integer`);
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

export function createGroupsPeer() {
  const base = createPeer();
  const senderKeys = new Map(); // party id -> Map("name.device|distid" -> serialized record)

  const party = (p) => {
    const got = base.parties.get(str(p, 'p'));
    if (!got) throw new Error(`no party ${JSON.stringify(p)}`);
    return got;
  };

  function senderKeyStore(p, me) {
    const { L } = me.lib;
    let records = senderKeys.get(p);
    if (!records) {
      records = new Map();
      senderKeys.set(p, records);
    }
    const key = (addr, dist) => `${addr.name()}.${addr.deviceId()}|${String(dist).toLowerCase()}`;
    class Store extends L.SenderKeyStore {
      async saveSenderKey(addr, dist, record) {
        records.set(key(addr, dist), Buffer.from(record.serialize()));
      }
      async getSenderKey(addr, dist) {
        const raw = records.get(key(addr, dist));
        return raw ? L.SenderKeyRecord.deserialize(me.lib.bytes(raw)) : null;
      }
    }
    return { store: new Store(), records, key };
  }

  const pub = (L, h, what) => L.PublicKey.deserialize(hex(h, what));
  const priv = (L, h, what) => L.PrivateKey.deserialize(hex(h, what));

  function certFields(L, cert) {
    const out = {
      sender_uuid: cert.senderUuid(),
      sender_e164: cert.senderE164(),
      device_id: cert.senderDeviceId(),
      expiration: cert.expiration(),
      identity_key: toHex(cert.key().serialize()),
      server_key_id: cert.serverCertificate().keyId(),
      server_key: toHex(cert.serverCertificate().key().serialize()),
      certificate: toHex(cert.certificate()),
      signature: toHex(cert.signature()),
    };
    return out;
  }

  function usmcFields(L, u) {
    return {
      usmc: toHex(u.serialize()),
      type: u.msgType(),
      contents: toHex(u.contents()),
      content_hint: u.contentHint(),
      group_id: u.groupId() ? toHex(u.groupId()) : null,
      sender_cert: toHex(u.senderCertificate().serialize()),
      sender: certFields(L, u.senderCertificate()),
    };
  }

  const commands = {
    // ------------------------------------------------------------------ sender keys
    async sk_create(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const { store } = senderKeyStore(req.p, me);
      const m = await L.SenderKeyDistributionMessage.create(me.localAddress, str(req.distribution_id, 'distribution_id'), store);
      return { skdm: toHex(m.serialize()), chain_id: m.chainId(), iteration: m.iteration() };
    },
    async sk_process(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const { store } = senderKeyStore(req.p, me);
      const m = L.SenderKeyDistributionMessage.deserialize(hex(req.skdm, 'skdm'));
      const addr = L.ProtocolAddress.new(str(req.sender_name, 'sender_name'), int(req.sender_device, 'sender_device', 1));
      await L.processSenderKeyDistributionMessage(addr, m, store);
      return {};
    },
    async sk_encrypt(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const { store } = senderKeyStore(req.p, me);
      // `count` > 1 encrypts that many times and returns the last message (to move a chain far
      // ahead without a round trip per message).
      let m;
      for (let i = int(req.count, 'count', 1); i > 0; i--) {
        m = await L.groupEncrypt(me.localAddress, str(req.distribution_id, 'distribution_id'), store, hex(req.pt, 'pt'));
      }
      return { type: m.type(), body: toHex(m.serialize()) };
    },
    async sk_decrypt(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const { store } = senderKeyStore(req.p, me);
      const addr = L.ProtocolAddress.new(str(req.sender_name, 'sender_name'), int(req.sender_device, 'sender_device', 1));
      const pt = await L.groupDecrypt(addr, store, hex(req.body, 'body'));
      return { pt: toHex(pt) };
    },
    // The raw stored record of (sender, distribution id); the party's own sender key is under
    // its own name and device.
    async sk_record(req) {
      const me = party(req.p);
      const { records, key } = senderKeyStore(req.p, me);
      const addr = me.lib.L.ProtocolAddress.new(str(req.sender_name, 'sender_name'), int(req.sender_device, 'sender_device', 1));
      const raw = records.get(key(addr, str(req.distribution_id, 'distribution_id')));
      return { record: raw ? toHex(raw) : null };
    },
    // Replaces (or, with record null, deletes) a stored record; the bytes go through
    // SenderKeyRecord.deserialize first, so a record libsignal cannot read fails here.
    async sk_set_record(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const { records, key } = senderKeyStore(req.p, me);
      const addr = L.ProtocolAddress.new(str(req.sender_name, 'sender_name'), int(req.sender_device, 'sender_device', 1));
      const k = key(addr, str(req.distribution_id, 'distribution_id'));
      if (req.record === null) {
        records.delete(k);
        return {};
      }
      const rec = L.SenderKeyRecord.deserialize(hex(req.record, 'record'));
      records.set(k, Buffer.from(rec.serialize()));
      return { reserialized: toHex(rec.serialize()) };
    },
    async sk_parse(req) {
      const L = await loadL(req.lib);
      if (req.kind === 'skdm') {
        const m = L.SenderKeyDistributionMessage.deserialize(hex(req.body, 'body'));
        return {
          distribution_id: String(m.distributionId()),
          chain_id: m.chainId(),
          iteration: m.iteration(),
          chain_key: toHex(m.chainKey()),
        };
      }
      const m = L.SenderKeyMessage.deserialize(hex(req.body, 'body'));
      const out = {
        distribution_id: String(m.distributionId()),
        chain_id: m.chainId(),
        iteration: m.iteration(),
        ciphertext: toHex(m.ciphertext()),
      };
      if (req.signing_key) out.signature_valid = m.verifySignature(pub(L, req.signing_key, 'signing_key'));
      return out;
    },

    // ------------------------------------------------------------------ sealed sender
    async ss_keypair(req) {
      const L = await loadL(req.lib);
      const k = req.private ? priv(L, req.private, 'private') : L.PrivateKey.generate();
      return { private: toHex(k.serialize()), public: toHex(k.getPublicKey().serialize()) };
    },
    async ss_server_cert(req) {
      const L = await loadL(req.lib);
      const c = L.ServerCertificate.new(int(req.key_id, 'key_id'), pub(L, req.key, 'key'), priv(L, req.trust_root_private, 'trust_root_private'));
      return { cert: toHex(c.serialize()) };
    },
    async ss_sender_cert(req) {
      const L = await loadL(req.lib);
      const server = L.ServerCertificate.deserialize(hex(req.server_cert, 'server_cert'));
      const c = L.SenderCertificate.new(
        str(req.uuid, 'uuid'),
        req.e164 ?? null,
        int(req.device_id, 'device_id'),
        pub(L, req.identity_key, 'identity_key'),
        int(req.expiration, 'expiration'),
        server,
        priv(L, req.server_private, 'server_private'),
      );
      return { cert: toHex(c.serialize()) };
    },
    async ss_validate(req) {
      const L = await loadL(req.lib);
      const c = L.SenderCertificate.deserialize(hex(req.cert, 'cert'));
      const roots = (req.trust_roots ?? []).map((r, i) => pub(L, r, `trust_roots[${i}]`));
      const time = int(req.time, 'time');
      let valid;
      if (typeof c.validateWithTrustRoots === 'function') valid = c.validateWithTrustRoots(roots, time);
      else {
        if (roots.length !== 1) throw new TypeError(`libsignal ${req.lib} validates against one trust root`);
        valid = c.validate(roots[0], time);
      }
      return { valid, fields: certFields(L, c) };
    },
    async ss_parse_server_cert(req) {
      const L = await loadL(req.lib);
      const c = L.ServerCertificate.deserialize(hex(req.cert, 'cert'));
      return { key_id: c.keyId(), key: toHex(c.key().serialize()), certificate: toHex(c.certificateData()), signature: toHex(c.signature()) };
    },
    // Builds libsignal's own USMC around a message the party encrypts now with its session (or
    // a PlaintextContent, with `plaintext`), so the USMC bytes are libsignal's encoding.
    async ss_usmc(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const cert = L.SenderCertificate.deserialize(hex(req.sender_cert, 'sender_cert'));
      let msg;
      if (req.plaintext != null) {
        msg = L.PlaintextContent.deserialize(hex(req.plaintext, 'plaintext')).asCiphertextMessage();
      } else if (req.distribution_id != null) {
        const { store } = senderKeyStore(req.p, me);
        msg = await L.groupEncrypt(me.localAddress, str(req.distribution_id, 'distribution_id'), store, hex(req.pt, 'pt'));
      } else {
        const addr = me.address(str(req.peer_name, 'peer_name'), int(req.peer_device, 'peer_device', 1));
        const pt = hex(req.pt, 'pt');
        msg = me.lib.localAddr.signalEncrypt
          ? await L.signalEncrypt(pt, addr, me.localAddress, me.sessionStore, me.identityStore)
          : await L.signalEncrypt(pt, addr, me.sessionStore, me.identityStore);
      }
      const u = L.UnidentifiedSenderMessageContent.new(msg, cert, int(req.content_hint, 'content_hint', 0), optHex(req.group_id, 'group_id'));
      return usmcFields(L, u);
    },
    // Sealed sender v1 of any USMC (given as bytes) to the peer.
    async ss_seal_v1(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const u = L.UnidentifiedSenderMessageContent.deserialize(hex(req.usmc, 'usmc'));
      const addr = me.address(str(req.peer_name, 'peer_name'), int(req.peer_device, 'peer_device', 1));
      return { sealed: toHex(await L.sealedSenderEncrypt(u, addr, me.identityStore)) };
    },
    // Sealed sender v2, multi-recipient ("SentMessage"), of a USMC to the listed devices (each
    // needs a session), with optional excluded ServiceIds.
    async ss_multi(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const u = L.UnidentifiedSenderMessageContent.deserialize(hex(req.usmc, 'usmc'));
      const recipients = (req.recipients ?? []).map((r) => L.ProtocolAddress.new(str(r.name, 'name'), int(r.device, 'device')));
      const excludedRecipients = (req.excluded ?? []).map((s) => L.ServiceId.parseFromServiceIdString(str(s, 'excluded')));
      const sent = await L.sealedSenderMultiRecipientEncrypt({
        content: u,
        recipients,
        excludedRecipients,
        identityStore: me.identityStore,
        sessionStore: me.sessionStore,
      });
      return { sent: toHex(sent) };
    },
    // The server's side: parse a SentMessage and cut out each recipient's message.
    async ss_split(req) {
      const L = await loadL(req.lib);
      const M = L.MultiRecipientMessage;
      const m = new M(hex(req.sent, 'sent'));
      const recipients = {};
      for (const [sid, r] of Object.entries(m.recipientsByServiceIdString())) {
        recipients[sid] = { device_ids: r.deviceIds, registration_ids: r.registrationIds, message: toHex(m.messageForRecipient(r)) };
      }
      return { recipients, excluded: m.excludedRecipientServiceIdStrings() };
    },
    async ss_decrypt(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const r = await L.sealedSenderDecryptMessage(
        hex(req.body, 'body'),
        pub(L, req.trust_root, 'trust_root'),
        int(req.time, 'time'),
        req.local_e164 ?? null,
        str(req.local_uuid, 'local_uuid', me.name),
        int(req.local_device, 'local_device', me.deviceId),
        me.sessionStore,
        me.identityStore,
        me.preKeyStore,
        me.signedPreKeyStore,
        me.kyberPreKeyStore,
      );
      return { sender_uuid: r.senderUuid(), sender_e164: r.senderE164(), device_id: r.deviceId(), pt: toHex(r.message()) };
    },
    async ss_decrypt_to_usmc(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const u = await L.sealedSenderDecryptToUsmc(hex(req.body, 'body'), me.identityStore);
      return usmcFields(L, u);
    },
    async ss_parse_usmc(req) {
      const L = await loadL(req.lib);
      return usmcFields(L, L.UnidentifiedSenderMessageContent.deserialize(hex(req.usmc, 'usmc')));
    },
    // The identity key a party has stored for a peer (what sealed sender encrypts to).
    async identity_of(req) {
      const me = party(req.p);
      const addr = me.address(str(req.peer_name, 'peer_name'), int(req.peer_device, 'peer_device', 1));
      const k = await me.identityStore.getIdentity(addr);
      return { identity_key: k ? toHex(k.serialize()) : null };
    },
    // Stores a peer's identity key (as if a session had been made), for sealed sender v1 to a
    // peer without a session.
    async save_identity(req) {
      const me = party(req.p);
      const addr = me.address(str(req.peer_name, 'peer_name'), int(req.peer_device, 'peer_device', 1));
      await me.identityStore.saveIdentity(addr, pub(me.lib.L, req.identity_key, 'identity_key'));
      return {};
    },

    // ------------------------------------------------------------------ retry receipts
    async dem_for_original(req) {
      const L = await loadL(req.lib);
      const d = L.DecryptionErrorMessage.forOriginal(hex(req.body, 'body'), int(req.type, 'type'), int(req.timestamp, 'timestamp'), int(req.device_id, 'device_id'));
      return { dem: toHex(d.serialize()) };
    },
    async dem_parse(req) {
      const L = await loadL(req.lib);
      const d = L.DecryptionErrorMessage.deserialize(hex(req.dem, 'dem'));
      const k = d.ratchetKey();
      return { timestamp: d.timestamp(), device_id: d.deviceId(), ratchet_key: k ? toHex(k.serialize()) : null };
    },
    async plaintext_from_dem(req) {
      const L = await loadL(req.lib);
      const p = L.PlaintextContent.from(L.DecryptionErrorMessage.deserialize(hex(req.dem, 'dem')));
      return { plaintext: toHex(p.serialize()), body: toHex(p.body()) };
    },
    async plaintext_parse(req) {
      const L = await loadL(req.lib);
      const p = L.PlaintextContent.deserialize(hex(req.plaintext, 'plaintext'));
      const d = L.DecryptionErrorMessage.extractFromSerializedBody(p.body());
      const k = d.ratchetKey();
      return { body: toHex(p.body()), dem: toHex(d.serialize()), timestamp: d.timestamp(), device_id: d.deviceId(), ratchet_key: k ? toHex(k.serialize()) : null };
    },
    // Whether the party's current session with the peer sends with this ratchet key (what an
    // application checks when a retry receipt arrives).
    async ratchet_key_matches(req) {
      const me = party(req.p);
      const { L } = me.lib;
      const addr = me.address(str(req.peer_name, 'peer_name'), int(req.peer_device, 'peer_device', 1));
      const rec = await me.sessionStore.getSession(addr);
      return { matches: rec ? rec.currentRatchetKeyMatches(pub(L, req.ratchet_key, 'ratchet_key')) : false };
    },

    // ------------------------------------------------------------------ safety numbers
    async fingerprint(req) {
      const L = await loadL(req.lib);
      const f = L.Fingerprint.new(
        int(req.iterations, 'iterations', 5200),
        int(req.version, 'version', 2),
        hex(req.local_id, 'local_id'),
        pub(L, req.local_key, 'local_key'),
        hex(req.remote_id, 'remote_id'),
        pub(L, req.remote_key, 'remote_key'),
      );
      return { display: f.displayableFingerprint().toString(), scannable: toHex(f.scannableFingerprint().toBuffer()) };
    },
    async fingerprint_compare(req) {
      const L = await loadL(req.lib);
      const a = L.ScannableFingerprint._fromBuffer(hex(req.ours, 'ours'));
      const b = L.ScannableFingerprint._fromBuffer(hex(req.theirs, 'theirs'));
      return { equal: a.compare(b) };
    },
  };

  async function handle(req) {
    if (req && typeof req === 'object' && !Array.isArray(req) && Object.hasOwn(commands, req.cmd)) {
      const id = 'id' in req ? { id: req.id } : {};
      try {
        return { ...id, ok: true, ...(await commands[req.cmd](req)) };
      } catch (e) {
        const lib = (typeof req.p === 'string' && base.parties.get(req.p)?.lib) || null;
        const out = { ...id, ...errorResponse(e, lib) };
        if (!lib && typeof e?.code === 'number' && req.lib && libCache.get(req.lib)) {
          const name = libCache.get(req.lib).ErrorCode?.[e.code];
          if (name) out.code_name = name === 'LibSignalError' ? 'Generic' : name;
        }
        return out;
      }
    }
    return base.handle(req);
  }

  return { handle, parties: base.parties };
}

async function main() {
  const peer = createGroupsPeer();
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
  process.on('uncaughtException', (e) => process.stderr.write(`groups.mjs: uncaught ${e?.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`groups.mjs: unhandled rejection ${e?.stack ?? e}\n`));
  main().catch((e) => {
    process.stderr.write(`groups.mjs: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
