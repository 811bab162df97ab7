// caudata-web in a page: two clients (Alice and Bob) that talk over Olm, Megolm and interolm
// (the Signal dialect, PQXDH), and keep their Olm/Megolm state as encrypted pickles in
// IndexedDB. The first visit creates everything; later visits restore it and go on.
//
// Everything shown here is what a web client does with the package; the only shortcut is that
// both clients live in one page, so "sending" is a function call instead of a server.
// test/browser/run.mjs opens this page twice and reads `globalThis.__example`.

import init, {
  Account,
  Session,
  GroupSession,
  InboundGroupSession,
  InterolmAccount,
  version,
} from '../pkg-web/caudata_wasm.js';

const state = (globalThis.__example = { done: false, checks: [], errors: [] });
addEventListener('error', (e) => state.errors.push(String(e.error ?? e.message)));
addEventListener('unhandledrejection', (e) => state.errors.push(String(e.reason)));

function check(name, ok, detail = '') {
  state.checks.push({ name, ok: Boolean(ok), detail: ok ? '' : String(detail) });
  const li = document.createElement('li');
  li.className = ok ? 'pass' : 'fail';
  li.textContent = ok ? name : `${name}: ${detail}`;
  document.getElementById('checks').append(li);
}

function show(who, tag, text) {
  const li = document.createElement('li');
  const t = document.createElement('span');
  t.className = 'tag';
  t.textContent = tag;
  li.append(t, text);
  document.querySelector(`#${who} .inbox`).append(li);
}

// ---- IndexedDB: one object store of pickles, keyed by name.

const DB = 'caudata-example';
const STORE = 'pickles';

function openDb() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(result?.result);
    t.onerror = () => reject(t.error);
  });
}

const load = (db) => tx(db, 'readonly', (s) => s.get('clients'));
const save = (db, value) => tx(db, 'readwrite', (s) => s.put(value, 'clients'));

document.getElementById('reset').onclick = async () => {
  const db = await openDb();
  await tx(db, 'readwrite', (s) => s.clear());
  location.reload();
};

// ---- the conversation

function expectEqual(name, got, want) {
  check(name, got === want, `got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

/** Olm from `from` to `to` ("sending" = passing the {type, body} object along). */
function olmSay(from, to, text) {
  const m = from.session.encrypt(text);
  const got = to.session.decrypt(m.type, m.body);
  show(to.name, `Olm type ${m.type}`, got);
  return got;
}

function firstVisit() {
  const alice = { name: 'alice', account: new Account() };
  const bob = { name: 'bob', account: new Account() };

  // Olm: Bob publishes a one-time key; Alice starts a session with it.
  bob.account.generateOneTimeKeys(1);
  const [otk] = Object.values(bob.account.oneTimeKeys);
  bob.account.markKeysAsPublished();
  alice.session = alice.account.createOutboundSession(bob.account.curve25519Key, otk);
  const hello = alice.session.encrypt('Hello Bob, this is Alice');
  expectEqual('Olm: the first message is a pre-key message', hello.type, 0);
  const inbound = bob.account.createInboundSession(alice.account.curve25519Key, hello.body);
  bob.session = inbound.session;
  show('bob', 'Olm type 0', inbound.plaintext);
  expectEqual('Olm: Bob reads Alice’s pre-key message', inbound.plaintext, 'Hello Bob, this is Alice');
  expectEqual('Olm: both sides have the same session id', bob.session.sessionId, alice.session.sessionId);
  expectEqual('Olm: Alice reads Bob’s reply', olmSay(bob, alice, 'Hi Alice!'), 'Hi Alice!');
  expectEqual('Olm: Bob reads the next one', olmSay(alice, bob, 'Shall we make a room?'), 'Shall we make a room?');

  // Megolm: Alice's room key travels to Bob inside the Olm session, as Matrix's m.room_key does.
  alice.room = new GroupSession();
  const roomKey = JSON.stringify({ type: 'm.room_key', session_key: alice.room.sessionKey });
  const delivered = JSON.parse(olmSay(alice, bob, roomKey));
  bob.room = new InboundGroupSession(delivered.session_key);
  show('bob', 'Olm', '(the room key, not shown)');
  expectEqual('Megolm: Bob has Alice’s room session', bob.room.sessionId, alice.room.sessionId);
  for (const text of ['Welcome to the room', 'Second message']) {
    const d = bob.room.decrypt(alice.room.encrypt(text));
    show('bob', `Megolm #${d.messageIndex}`, d.plaintext);
    expectEqual(`Megolm: Bob reads “${text}”`, d.plaintext, text);
  }
  return { alice, bob };
}

function interolm(alice, bob) {
  // Bob publishes a PQXDH prekey bundle (signed prekey, one-time prekey, Kyber1024 prekey);
  // Alice's first message is a pre-key message (type 3), later ones Whisper messages (type 2).
  const ia = InterolmAccount.fromOlmAccount(alice.account);
  const ib = InterolmAccount.fromOlmAccount(bob.account);
  ib.generateSignedPreKey();
  ib.generateOneTimePreKeys(1);
  ib.generateKyberPreKey(false);
  const toAlice = ia.createOutboundSession(ib.preKeyBundle(1));
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const first = toAlice.encrypt(enc.encode('Hello over PQXDH'));
  expectEqual('interolm: the first message is a PreKeySignalMessage', first.type, 3);
  const { session: toBob, plaintext } = ib.createInboundSession(first.body);
  show('bob', 'interolm type 3', dec.decode(plaintext));
  expectEqual('interolm: Bob reads Alice’s pre-key message', dec.decode(plaintext), 'Hello over PQXDH');
  expectEqual('interolm: a post-quantum (PQXDH, version 4) session', toBob.sessionVersion, 4);
  for (let i = 0; i < 3; i++) {
    const [from, to, who] = i % 2 ? [toAlice, toBob, 'bob'] : [toBob, toAlice, 'alice'];
    const m = from.encrypt(enc.encode(`interolm ${i}`));
    const got = dec.decode(to.decrypt(m.type, m.body));
    show(who, `interolm type ${m.type}`, got);
    expectEqual(`interolm: message ${i} (${who === 'alice' ? 'Bob → Alice' : 'Alice → Bob'})`, got, `interolm ${i}`);
  }
  for (const x of [toAlice, toBob, ia, ib]) x.free();
}

async function main() {
  await init();
  const db = await openDb();
  const stored = await load(db);
  let alice;
  let bob;
  // A real client would not keep the pickle key next to the pickles: derive it from a passphrase
  // or wrap it with a non-extractable WebCrypto key. Here it lives in IndexedDB too.
  let pickleKey;
  if (stored) {
    pickleKey = stored.pickleKey;
    const restore = (p) => ({
      account: Account.fromPickle(p.account, pickleKey),
      session: Session.fromPickle(p.session, pickleKey),
      room: p.outbound ? GroupSession.fromPickle(p.outbound, pickleKey) : InboundGroupSession.fromPickle(p.inbound, pickleKey),
    });
    alice = { name: 'alice', ...restore(stored.alice) };
    bob = { name: 'bob', ...restore(stored.bob) };
    expectEqual('restored from IndexedDB: Alice’s identity key', alice.account.curve25519Key, stored.alice.curve25519);
    expectEqual('restored from IndexedDB: Bob’s identity key', bob.account.curve25519Key, stored.bob.curve25519);
    expectEqual('restored from IndexedDB: the Olm session', bob.session.sessionId, alice.session.sessionId);
    const visit = stored.visits + 1;
    expectEqual('restored from IndexedDB: Olm goes on', olmSay(alice, bob, `Back again (visit ${visit})`), `Back again (visit ${visit})`);
    expectEqual('restored from IndexedDB: and back', olmSay(bob, alice, 'Welcome back'), 'Welcome back');
    const d = bob.room.decrypt(alice.room.encrypt(`Room message on visit ${visit}`));
    show('bob', `Megolm #${d.messageIndex}`, d.plaintext);
    expectEqual('restored from IndexedDB: the Megolm room goes on', d.plaintext, `Room message on visit ${visit}`);
    check('restored from IndexedDB: the room index moved on', d.messageIndex >= 2, `index ${d.messageIndex}`);
    state.visits = visit;
  } else {
    pickleKey = crypto.getRandomValues(new Uint8Array(32));
    ({ alice, bob } = firstVisit());
    state.visits = 1;
  }
  interolm(alice, bob);

  // Store (or update) both clients' pickles.
  const pickle = (c, room) => ({
    curve25519: c.account.curve25519Key,
    account: c.account.pickle(pickleKey),
    session: c.session.pickle(pickleKey),
    [room]: c.room.pickle(pickleKey),
  });
  await save(db, { pickleKey, visits: state.visits, alice: pickle(alice, 'outbound'), bob: pickle(bob, 'inbound') });
  const again = await load(db);
  expectEqual('pickles stored in IndexedDB', again?.visits, state.visits);
  check('pickles are encrypted (no key material in the clear)', !again.alice.account.includes(alice.account.ed25519Key), 'the public key appears in the pickle');

  for (const c of [alice, bob]) {
    document.querySelector(`#${c.name} .keys`).textContent = `curve25519 ${c.account.curve25519Key}\ned25519 ${c.account.ed25519Key}`;
    for (const k of ['room', 'session', 'account']) c[k].free();
  }
  state.version = version();
}

try {
  await main();
} catch (e) {
  state.errors.push(`${e?.name}: ${e?.message} (${e?.code ?? ''})\n${e?.stack ?? ''}`);
  check('the example ran to the end', false, e);
}
state.done = true;
document.body.dataset.status = state.errors.length || state.checks.some((c) => !c.ok) ? 'failed' : 'ok';
