// Pickles in the WebAssembly build: libolm 3.2.15's pickled state (made by its own WebAssembly
// build, in this process) imported into caudata and the conversations continued with libolm;
// caudata exported back to libolm; caudata's own format round trips; the known-answer pickles
// written by the native build (test-vectors/pickle/kat.json) read the same in WebAssembly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caudata, loadOlm, assertCode, firstEntry, readText, fromHex } from './common.mjs';

const Olm = await loadOlm();
const LIBOLM_KEY = 'a libolm pickle key, any length';
const KEY = new Uint8Array(32).map((_, i) => i + 1);

function libolmPair() {
  const alice = new Olm.Account();
  alice.create();
  const bob = new Olm.Account();
  bob.create();
  bob.generate_one_time_keys(5);
  const otk = firstEntry(JSON.parse(bob.one_time_keys()).curve25519).key;
  const a = new Olm.Session();
  a.create_outbound(alice, JSON.parse(bob.identity_keys()).curve25519, otk);
  const m = a.encrypt('hello');
  const b = new Olm.Session();
  b.create_inbound_from(bob, JSON.parse(alice.identity_keys()).curve25519, m.body);
  bob.remove_one_time_keys(b);
  b.decrypt(m.type, m.body);
  return { alice, bob, a, b };
}

test('libolm account pickle → caudata: same keys, same unpublished one-time keys, same signatures', () => {
  const { bob } = libolmPair();
  bob.generate_fallback_key();
  const account = caudata.Account.fromLibolmPickle(bob.pickle(LIBOLM_KEY), LIBOLM_KEY);
  const keys = JSON.parse(bob.identity_keys());
  assert.deepEqual(account.identityKeys, keys);
  assert.deepEqual(Object.values(account.oneTimeKeys).sort(), Object.values(JSON.parse(bob.one_time_keys()).curve25519).sort());
  assert.deepEqual(Object.values(account.fallbackKey), Object.values(JSON.parse(bob.unpublished_fallback_key()).curve25519));
  assert.equal(account.sign('same signature'), bob.sign('same signature'), 'Ed25519 signatures are deterministic');

  // A libolm peer starts a session to one of the imported one-time keys.
  const carol = new Olm.Account();
  carol.create();
  const otk = Object.values(account.oneTimeKeys)[2];
  const s = new Olm.Session();
  s.create_outbound(carol, account.curve25519Key, otk);
  const m = s.encrypt('to the imported account');
  const r = account.createInboundSession(JSON.parse(carol.identity_keys()).curve25519, m.body);
  assert.equal(r.plaintext, 'to the imported account');

  // Uint8Array keys work the same (a fresh copy for each call: libolm wipes the key array it
  // is given), and a wrong key is refused.
  const bytesKey = () => new TextEncoder().encode(LIBOLM_KEY);
  const fromBytes = caudata.Account.fromLibolmPickle(bob.pickle(bytesKey()), bytesKey());
  assert.equal(fromBytes.curve25519Key, account.curve25519Key);
  assertCode(() => caudata.Account.fromLibolmPickle(bob.pickle(LIBOLM_KEY), 'another key'), 'BAD_PICKLE_KEY');
});

test('libolm session pickles → caudata, conversation continued with libolm both ways', () => {
  const { a, b } = libolmPair();
  // Leave skipped message keys in the pickled state: two messages in flight.
  const late = [a.encrypt('late 1'), a.encrypt('late 2')];
  const reply = b.encrypt('reply');
  a.decrypt(reply.type, reply.body);
  const ours = caudata.Session.fromLibolmPickle(b.pickle(LIBOLM_KEY), LIBOLM_KEY);
  assert.equal(ours.sessionId, a.session_id());
  assert.equal(ours.decrypt(late[1].type, late[1].body), 'late 2');
  assert.equal(ours.decrypt(late[0].type, late[0].body), 'late 1');
  for (let i = 0; i < 10; i++) {
    const x = ours.encrypt(`caudata ${i}`);
    assert.equal(a.decrypt(x.type, x.body), `caudata ${i}`);
    const y = a.encrypt(`libolm ${i}`);
    assert.equal(ours.decrypt(y.type, y.body), `libolm ${i}`);
  }

  // And back: caudata's state exported to libolm, which continues.
  const back = new Olm.Session();
  back.unpickle(LIBOLM_KEY, ours.toLibolmPickle(LIBOLM_KEY));
  assert.equal(back.session_id(), a.session_id());
  const z = a.encrypt('to libolm again');
  assert.equal(back.decrypt(z.type, z.body), 'to libolm again');
  const w = back.encrypt('from libolm again');
  assert.equal(a.decrypt(w.type, w.body), 'from libolm again');
});

test('libolm group session pickles → caudata (outbound and inbound), and back', () => {
  const out = new Olm.OutboundGroupSession();
  out.create();
  const libIn = new Olm.InboundGroupSession();
  libIn.create(out.session_key());
  for (let i = 0; i < 5; i++) libIn.decrypt(out.encrypt(`before ${i}`));

  const ourOut = caudata.GroupSession.fromLibolmPickle(out.pickle(LIBOLM_KEY), LIBOLM_KEY);
  assert.equal(ourOut.sessionId, out.session_id());
  assert.equal(ourOut.messageIndex, 5);
  const m = ourOut.encrypt('from the imported outbound session');
  assert.equal(m, out.encrypt('from the imported outbound session'), 'byte-identical to what libolm sends next');
  assert.equal(libIn.decrypt(m).plaintext, 'from the imported outbound session');

  const ourIn = caudata.InboundGroupSession.fromLibolmPickle(libIn.pickle(LIBOLM_KEY), LIBOLM_KEY);
  assert.equal(ourIn.firstKnownIndex, 0);
  assert.equal(ourIn.signingKeyVerified, true);
  assert.equal(ourIn.decrypt(out.encrypt('next')).plaintext, 'next');

  const libOut2 = new Olm.OutboundGroupSession();
  libOut2.unpickle(LIBOLM_KEY, ourOut.toLibolmPickle(LIBOLM_KEY));
  assert.equal(libOut2.message_index(), ourOut.messageIndex);
  const libIn2 = new Olm.InboundGroupSession();
  libIn2.unpickle(LIBOLM_KEY, ourIn.toLibolmPickle(LIBOLM_KEY));
  assert.equal(libIn2.decrypt(out.encrypt('after export')).plaintext, 'after export');

  assertCode(() => new caudata.GroupSession(2).toLibolmPickle(LIBOLM_KEY), 'UNREPRESENTABLE');
});

test("caudata's own pickles round trip for all four objects; wrong key, type and length are refused", () => {
  const alice = new caudata.Account();
  const bob = new caudata.Account();
  bob.generateOneTimeKeys(2);
  const s = alice.createOutboundSession(bob.curve25519Key, Object.values(bob.oneTimeKeys)[0]);
  const first = s.encrypt('x');
  const r = bob.createInboundSession(alice.curve25519Key, first.body);

  const bob2 = caudata.Account.fromPickle(bob.pickle(KEY), KEY);
  assert.deepEqual(bob2.identityKeys, bob.identityKeys);
  assert.deepEqual(bob2.oneTimeKeys, bob.oneTimeKeys);
  const r2 = caudata.Session.fromPickle(r.session.pickle(KEY), KEY);
  const m = s.encrypt('after the pickle');
  assert.equal(r2.decrypt(m.type, m.body), 'after the pickle');

  const g = new caudata.GroupSession();
  g.encrypt('one');
  const g2 = caudata.GroupSession.fromPickle(g.pickle(KEY), KEY);
  assert.equal(g2.messageIndex, 1);
  const i = new caudata.InboundGroupSession(g.sessionKey);
  const i2 = caudata.InboundGroupSession.fromPickle(i.pickle(KEY), KEY);
  assert.equal(i2.decrypt(g2.encrypt('two')).plaintext, 'two');

  assert.notEqual(bob.pickle(KEY), bob.pickle(KEY), 'a fresh nonce each time');
  const wrong = new Uint8Array(32);
  assertCode(() => caudata.Account.fromPickle(bob.pickle(KEY), wrong), 'BAD_PICKLE_KEY');
  assertCode(() => caudata.Session.fromPickle(bob.pickle(KEY), KEY), 'WRONG_PICKLE_TYPE');
  assertCode(() => bob.pickle(new Uint8Array(31)), 'INVALID_ARGUMENT');
  assertCode(() => caudata.Account.fromPickle('!!', KEY), 'INVALID_BASE64');
  assertCode(() => caudata.Account.fromVodozemacPickle('AAAA', KEY), 'INVALID_PICKLE');
});

test('the native known-answer pickles (test-vectors/pickle/kat.json) load identically in WebAssembly', () => {
  const kat = JSON.parse(readText(new URL('../../../test-vectors/pickle/kat.json', import.meta.url)));
  const key = fromHex(kat.pickle_key_hex);
  const classes = { Account: caudata.Account, Session: caudata.Session, GroupSession: caudata.GroupSession, InboundGroupSession: caudata.InboundGroupSession };
  assert.ok(kat.cases.length >= 4);
  for (const c of kat.cases) {
    const o = classes[c.object].fromPickle(c.encrypted, new Uint8Array(key));
    const e = c.expect;
    switch (c.object) {
      case 'Account':
        assert.equal(o.curve25519Key, e.curve25519, c.name);
        assert.equal(o.sign('kat'), e.signature, c.name);
        assert.equal(Object.keys(o.oneTimeKeys).length, e.unpublished_one_time_keys, c.name);
        break;
      case 'Session':
        assert.equal(o.sessionId, e.session_id, c.name);
        break;
      case 'GroupSession':
        assert.equal(o.sessionId, e.session_id, c.name);
        assert.equal(o.encrypt('kat'), e.next, c.name);
        break;
      default:
        assert.equal(o.sessionId, e.session_id, c.name);
        assert.equal(o.firstKnownIndex, e.first_known_index, c.name);
        assert.equal(o.signingKeyVerified, e.verified, c.name);
        assert.equal(o.exportAt(40), e.export_at_40, c.name);
    }
  }
});
