// Node-only helpers: in-process libsignal parties (@signalapp/libsignal-client 0.72.1 and
// 0.90.0 as the npm aliases ls072 and ls090, native Node modules), on top of the portable
// helpers of common.mjs (which the browser tests use too).
// Everything comes from bindings/wasm/node_modules, installed by build.sh from package-lock.json.

import assert from 'node:assert/strict';

export * from './common.mjs';

// ------------------------------------------------------------------------------------------
// libsignal

export const LIBSIGNAL = { '0.72.1': 'ls072', '0.90.0': 'ls090' };

/** One libsignal version's module (0.72.1 is CommonJS, 0.90.0 an ES module). */
export async function loadLibsignal(version) {
  const mod = await import(LIBSIGNAL[version]);
  const L = mod.default && typeof mod.default.PrivateKey === 'function' ? mod.default : mod;
  assert.equal(typeof L.processPreKeyBundle, 'function');
  return L;
}

/** A fresh Buffer copy (0.72.1 wants Buffers, 0.90 Uint8Array<ArrayBuffer>; both take this). */
export const buf = (u8) => Buffer.from(u8);

/**
 * A libsignal device with in-memory stores that trust every identity. `kyber`: whether it
 * has (and its bundles carry) a Kyber prekey.
 */
export class SignalParty {
  constructor(L, name, { kyber = true, registrationId = 1234, deviceId = 1 } = {}) {
    this.L = L;
    this.name = name;
    this.deviceId = deviceId;
    this.registrationId = registrationId;
    this.identity = L.IdentityKeyPair.generate();
    this.address = L.ProtocolAddress.new(name, deviceId);
    const sessions = new Map();
    const identities = new Map();
    const preKeys = new Map();
    const signedPreKeys = new Map();
    const kyberPreKeys = new Map();
    const self = this;
    const key = (addr) => `${addr.name()}.${addr.deviceId()}`;
    this.sessionStore = new (class extends L.SessionStore {
      async saveSession(addr, record) {
        sessions.set(key(addr), Buffer.from(record.serialize()));
      }
      async getSession(addr) {
        const raw = sessions.get(key(addr));
        return raw ? L.SessionRecord.deserialize(buf(raw)) : null;
      }
      async getExistingSessions(addrs) {
        return Promise.all(addrs.map((a) => this.getSession(a)));
      }
    })();
    this.identityStore = new (class extends L.IdentityKeyStore {
      async getIdentityKey() {
        return self.identity.privateKey;
      }
      async getIdentityKeyPair() {
        return self.identity;
      }
      async getLocalRegistrationId() {
        return self.registrationId;
      }
      async saveIdentity(addr, pub) {
        const had = identities.has(key(addr));
        identities.set(key(addr), Buffer.from(pub.serialize()));
        return had ? L.IdentityChange?.ReplacedExisting ?? true : L.IdentityChange?.NewOrUnchanged ?? false;
      }
      async isTrustedIdentity() {
        return true;
      }
      async getIdentity(addr) {
        const raw = identities.get(key(addr));
        return raw ? L.PublicKey.deserialize(buf(raw)) : null;
      }
    })();
    this.preKeyStore = new (class extends L.PreKeyStore {
      async savePreKey(id, record) {
        preKeys.set(id, record);
      }
      async getPreKey(id) {
        const r = preKeys.get(id);
        if (!r) throw new Error(`no one-time prekey ${id}`);
        return r;
      }
      async removePreKey(id) {
        preKeys.delete(id);
      }
    })();
    this.signedPreKeyStore = new (class extends L.SignedPreKeyStore {
      async saveSignedPreKey(id, record) {
        signedPreKeys.set(id, record);
      }
      async getSignedPreKey(id) {
        const r = signedPreKeys.get(id);
        if (!r) throw new Error(`no signed prekey ${id}`);
        return r;
      }
    })();
    this.kyberPreKeyStore = new (class extends L.KyberPreKeyStore {
      async saveKyberPreKey(id, record) {
        kyberPreKeys.set(id, record);
      }
      async getKyberPreKey(id) {
        const r = kyberPreKeys.get(id);
        if (!r) throw new Error(`no Kyber prekey ${id}`);
        return r;
      }
      async markKyberPreKeyUsed() {}
    })();

    // One prekey of each kind.
    const ts = Date.now();
    const opk = L.PrivateKey.generate();
    this.preKeyId = 31;
    preKeys.set(31, L.PreKeyRecord.new(31, opk.getPublicKey(), opk));
    const spk = L.PrivateKey.generate();
    const spkSig = this.identity.privateKey.sign(buf(spk.getPublicKey().serialize()));
    this.signedPreKeyId = 17;
    signedPreKeys.set(17, L.SignedPreKeyRecord.new(17, ts, spk.getPublicKey(), spk, spkSig));
    this.kyber = kyber;
    if (kyber) {
      const kp = L.KEMKeyPair.generate();
      const sig = this.identity.privateKey.sign(buf(kp.getPublicKey().serialize()));
      this.kyberPreKeyId = 23;
      kyberPreKeys.set(23, L.KyberPreKeyRecord.new(23, ts, kp, sig));
    }
    this.bundleParts = () => {
      const o = preKeys.get(31);
      const s = signedPreKeys.get(17);
      const k = kyber ? kyberPreKeys.get(23) : null;
      return {
        registrationId: this.registrationId,
        deviceId: this.deviceId,
        preKeyId: o ? 31 : null,
        preKey: o ? new Uint8Array(o.publicKey().serialize()) : null,
        signedPreKeyId: 17,
        signedPreKey: new Uint8Array(s.publicKey().serialize()),
        signedPreKeySignature: new Uint8Array(s.signature()),
        identityKey: new Uint8Array(this.identity.publicKey.serialize()),
        kyberPreKeyId: k ? 23 : null,
        kyberPreKey: k ? new Uint8Array(k.publicKey().serialize()) : null,
        kyberPreKeySignature: k ? new Uint8Array(k.signature()) : null,
      };
    };
  }

  /** This party's bundle as caudata's PreKeyBundle. */
  caudataBundle(caudata) {
    const b = this.bundleParts();
    return new caudata.PreKeyBundle(
      b.registrationId,
      b.deviceId,
      b.preKeyId ?? undefined,
      b.preKey ?? undefined,
      b.signedPreKeyId,
      b.signedPreKey,
      b.signedPreKeySignature,
      b.identityKey,
      b.kyberPreKeyId ?? undefined,
      b.kyberPreKey ?? undefined,
      b.kyberPreKeySignature ?? undefined,
    );
  }

  /** Processes a caudata PreKeyBundle (from `peerName`). */
  async processBundle(peerName, bundle) {
    const L = this.L;
    const args = [
      bundle.registrationId,
      bundle.deviceId,
      bundle.preKeyId ?? null,
      bundle.preKey ? L.PublicKey.deserialize(buf(bundle.preKey)) : null,
      bundle.signedPreKeyId,
      L.PublicKey.deserialize(buf(bundle.signedPreKey)),
      buf(bundle.signedPreKeySignature),
      L.PublicKey.deserialize(buf(bundle.identityKey)),
    ];
    if (bundle.kyberPreKey) {
      args.push(
        bundle.kyberPreKeyId,
        L.KEMPublicKey.deserialize(buf(bundle.kyberPreKey)),
        buf(bundle.kyberPreKeySignature),
      );
    }
    const b = L.PreKeyBundle.new(...args);
    await L.processPreKeyBundle(b, L.ProtocolAddress.new(peerName, 1), this.sessionStore, this.identityStore);
  }

  async encrypt(peerName, plaintext) {
    const L = this.L;
    const m = await L.signalEncrypt(buf(plaintext), L.ProtocolAddress.new(peerName, 1), this.sessionStore, this.identityStore);
    return { type: m.type(), body: new Uint8Array(m.serialize()) };
  }

  async decrypt(peerName, { type, body }) {
    const L = this.L;
    const addr = L.ProtocolAddress.new(peerName, 1);
    if (type === 3) {
      const m = L.PreKeySignalMessage.deserialize(buf(body));
      return new Uint8Array(
        await L.signalDecryptPreKey(
          m,
          addr,
          this.sessionStore,
          this.identityStore,
          this.preKeyStore,
          this.signedPreKeyStore,
          this.kyberPreKeyStore,
        ),
      );
    }
    const m = L.SignalMessage.deserialize(buf(body));
    return new Uint8Array(await L.signalDecrypt(m, addr, this.sessionStore, this.identityStore));
  }
}

