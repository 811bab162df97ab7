// libolm's JavaScript API (@matrix-org/olm 3.2.15) wrapped as caudata's, for the benchmarks.
// Platform-neutral: Node (bench/impls.mjs) and the browser page (browser/bench.html) each load
// libolm their own way and pass its initialised `Olm` object in.

/** libolm's JavaScript API wrapped as caudata's, over an initialised `Olm`. */
export function libolmAdapter(Olm) {
  const libolm = {
    Account: class {
      constructor() {
        this.a = new Olm.Account();
        this.a.create();
      }
      get curve25519Key() {
        return JSON.parse(this.a.identity_keys()).curve25519;
      }
      generateOneTimeKeys(n) {
        this.a.generate_one_time_keys(n);
      }
      get oneTimeKeys() {
        return JSON.parse(this.a.one_time_keys()).curve25519;
      }
      markKeysAsPublished() {
        this.a.mark_keys_as_published();
      }
      createOutboundSession(identityKey, oneTimeKey) {
        const s = new Olm.Session();
        s.create_outbound(this.a, identityKey, oneTimeKey);
        return new libolm.Session(s);
      }
      createInboundSession(identityKey, body) {
        const s = new Olm.Session();
        s.create_inbound_from(this.a, identityKey, body);
        this.a.remove_one_time_keys(s);
        const plaintext = s.decrypt(0, body);
        return { session: new libolm.Session(s), plaintext };
      }
      free() {
        this.a.free();
      }
    },
    Session: class {
      constructor(s) {
        this.s = s;
      }
      encrypt(p) {
        return this.s.encrypt(p);
      }
      decrypt(t, b) {
        return this.s.decrypt(t, b);
      }
      free() {
        this.s.free();
      }
    },
    GroupSession: class {
      constructor() {
        this.s = new Olm.OutboundGroupSession();
        this.s.create();
      }
      get sessionKey() {
        return this.s.session_key();
      }
      encrypt(p) {
        return this.s.encrypt(p);
      }
      free() {
        this.s.free();
      }
    },
    InboundGroupSession: class {
      constructor(key) {
        this.s = new Olm.InboundGroupSession();
        this.s.create(key);
      }
      decrypt(m) {
        const { plaintext, message_index } = this.s.decrypt(m);
        return { plaintext, messageIndex: message_index };
      }
      free() {
        this.s.free();
      }
    },
  };
  return libolm;
}
