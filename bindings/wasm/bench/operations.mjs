// The operations bench.mjs and browser/bench.html time and bench/ir.mjs counts instructions
// of. Each `make(impl, batch)` prepares its objects once and returns a function that runs one
// batch through `batch(B, setup, run, teardown)`: `setup(B)` and `teardown` untimed,
// `run(state, i)` for i < B timed (or counted) as a whole. Messages come from libolm wherever
// there is a peer. Platform-neutral: the caller passes libolm (bench/libolm.mjs's adapter), and
// the browser page maps node:assert/strict to browser/assert.mjs.

import assert from 'node:assert/strict';

export const PLAINTEXT = JSON.stringify({
  type: 'm.room_key',
  content: { algorithm: 'm.megolm.v1.aes-sha2', room_id: '!room:example.org', session_id: 'x'.repeat(43) },
}); // ≈ 150 bytes, the size of a typical to-device payload

/** The operations, with `libolm` (bench/libolm.mjs's adapter) as every implementation's peer. */
export function makeOperations(libolm) {
  /** The libolm peer each implementation talks to. */
  function libolmPair(impl) {
    const peer = new libolm.Account();
    peer.generateOneTimeKeys(1);
    const otk = Object.values(peer.oneTimeKeys)[0];
    const ours = new impl.lib.Account();
    const out = ours.createOutboundSession(peer.curve25519Key, otk);
    const first = out.encrypt('hello');
    const { session: theirs } = peer.createInboundSession(ours.curve25519Key, first.body);
    const reply = theirs.encrypt('hi');
    assert.equal(out.decrypt(reply.type, reply.body), 'hi');
    return { ours, out, peer, theirs };
  }

  /** Each operation: a batch size and, per implementation, a function making `batch` calls. */
  return [
    {
      name: 'Account creation',
      B: 20,
      make: (impl, batch) => () =>
        batch(20, () => [], (s) => s.push(new impl.lib.Account()), (s) => s.forEach((a) => a.free())),
    },
    {
      name: 'Olm outbound session creation',
      B: 20,
      make: (impl, batch) => {
        const peer = new libolm.Account();
        peer.generateOneTimeKeys(1);
        const [idk, otk] = [peer.curve25519Key, Object.values(peer.oneTimeKeys)[0]];
        const ours = new impl.lib.Account();
        return () =>
          batch(20, () => [], (s) => s.push(ours.createOutboundSession(idk, otk)), (s) => s.forEach((x) => x.free()));
      },
    },
    {
      name: 'Olm inbound session creation (libolm pre-key message)',
      B: 20,
      make: (impl, batch) => {
        const ours = new impl.lib.Account();
        const peer = new libolm.Account();
        const idk = peer.curve25519Key;
        return () =>
          batch(
            20,
            (B) => {
              ours.generateOneTimeKeys(B);
              const otks = Object.values(ours.oneTimeKeys);
              ours.markKeysAsPublished();
              return {
                msgs: otks.map((otk) => {
                  const s = peer.createOutboundSession(ours.curve25519Key, otk);
                  const m = s.encrypt(PLAINTEXT).body;
                  s.free();
                  return m;
                }),
                out: [],
              };
            },
            (s, i) => {
              const r = ours.createInboundSession(idk, s.msgs[i]);
              s.out.push(r.session);
            },
            (s) => {
              assert.equal(s.out.length, s.msgs.length);
              s.out.forEach((x) => x.free());
            },
          );
      },
    },
    {
      name: 'Olm encrypt, same chain',
      B: 200,
      make: (impl, batch) => {
        const p = libolmPair(impl);
        return () =>
          batch(
            200,
            () => [],
            (s) => s.push(p.out.encrypt(PLAINTEXT)),
            (s) => s.forEach((m) => assert.equal(p.theirs.decrypt(m.type, m.body), PLAINTEXT)),
          );
      },
    },
    {
      name: 'Olm decrypt, same chain (libolm message)',
      B: 200,
      make: (impl, batch) => {
        const p = libolmPair(impl);
        return () =>
          batch(
            200,
            (B) => Array.from({ length: B }, () => p.theirs.encrypt(PLAINTEXT)),
            (s, i) => {
              if (p.out.decrypt(s[i].type, s[i].body).length !== PLAINTEXT.length) throw new Error('bad plaintext');
            },
          );
      },
    },
    {
      name: 'Olm round trip with two ratchet steps (same library)',
      B: 10,
      make: (impl, batch) => {
        const a = new impl.lib.Account();
        const b = new impl.lib.Account();
        b.generateOneTimeKeys(1);
        const x = a.createOutboundSession(b.curve25519Key, Object.values(b.oneTimeKeys)[0]);
        const y = b.createInboundSession(a.curve25519Key, x.encrypt('hi').body).session;
        return () =>
          batch(
            10,
            () => null,
            () => {
              const m1 = y.encrypt(PLAINTEXT);
              x.decrypt(m1.type, m1.body);
              const m2 = x.encrypt(PLAINTEXT);
              y.decrypt(m2.type, m2.body);
            },
          );
      },
    },
    {
      name: 'Megolm encrypt',
      B: 100,
      make: (impl, batch) => {
        const out = new impl.lib.GroupSession();
        return () => batch(100, () => null, () => out.encrypt(PLAINTEXT));
      },
    },
    {
      name: 'Megolm decrypt, sequential (libolm message)',
      B: 100,
      make: (impl, batch) => {
        const out = new libolm.GroupSession();
        const inbound = new impl.lib.InboundGroupSession(out.sessionKey);
        return () =>
          batch(
            100,
            (B) => Array.from({ length: B }, () => out.encrypt(PLAINTEXT)),
            (s, i) => {
              if (inbound.decrypt(s[i]).plaintext.length !== PLAINTEXT.length) throw new Error('bad plaintext');
            },
          );
      },
    },
    {
      name: 'Megolm inbound session from a session key (libolm)',
      B: 20,
      make: (impl, batch) => {
        const key = new libolm.GroupSession().sessionKey;
        return () =>
          batch(20, () => [], (s) => s.push(new impl.lib.InboundGroupSession(key)), (s) => s.forEach((x) => x.free()));
      },
    },
  ];
}
