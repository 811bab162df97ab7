//! Differential fuzzing at libolm's C ABI: every operation is made twice, on caudata-libolm
//! and on libolm 3.2.16 itself (compiled from the same source package, linked in the same
//! process with its symbols renamed), with the same arguments and the same random bytes, and
//! the two must return the same values, the same error codes and the same output bytes, and
//! keep byte-identical states (their pickles are compared after every change).
//!
//! The input is a program: each operation reads a selector byte and its arguments from the
//! input. Values the operations produce (keys, messages, session keys, pickles, signatures)
//! go into a shared pool that later operations draw from; a `mutate` operation derives
//! altered copies, which are marked as not honest.
//!
//! The only differences tolerated are caudata's deliberate ones (libolm/README.md), and only
//! on inputs that an honest libolm never produces (altered pool entries, keys given as raw
//! fuzzer bytes): caudata may then refuse, with one of the codes listed for the operation,
//! where libolm goes on. The two objects involved then differ, so caudata's is reloaded from
//! libolm's pickle (or, where it cannot be, set aside). Anything else stops the run.

#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

pub mod api;

use core::ffi::c_void;

pub use api::{Lib, OURS, REAL};

const ERR: usize = usize::MAX;

// error codes
const BAD_MESSAGE_VERSION: u32 = 3;
const BAD_MESSAGE_FORMAT: u32 = 4;
const BAD_MESSAGE_MAC: u32 = 5;
const BAD_MESSAGE_KEY_ID: u32 = 6;
const BAD_ACCOUNT_KEY: u32 = 8;
const CORRUPTED_PICKLE: u32 = 10;
const BAD_SESSION_KEY: u32 = 11;
const BAD_SIGNATURE: u32 = 14;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Account,
    Session,
    Utility,
    Outbound,
    Inbound,
    PkEnc,
    PkDec,
    PkSign,
    Sas,
}

const KINDS: [Kind; 9] = [
    Kind::Account,
    Kind::Session,
    Kind::Utility,
    Kind::Outbound,
    Kind::Inbound,
    Kind::PkEnc,
    Kind::PkDec,
    Kind::PkSign,
    Kind::Sas,
];
const SLOTS: usize = 3;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
    unsafe fn size(self, lib: &Lib) -> usize {
        unsafe {
            match self {
                Kind::Account => (lib.olm_account_size)(),
                Kind::Session => (lib.olm_session_size)(),
                Kind::Utility => (lib.olm_utility_size)(),
                Kind::Outbound => (lib.olm_outbound_group_session_size)(),
                Kind::Inbound => (lib.olm_inbound_group_session_size)(),
                Kind::PkEnc => (lib.olm_pk_encryption_size)(),
                Kind::PkDec => (lib.olm_pk_decryption_size)(),
                Kind::PkSign => (lib.olm_pk_signing_size)(),
                Kind::Sas => (lib.olm_sas_size)(),
            }
        }
    }
    unsafe fn init(self, lib: &Lib, m: *mut c_void) -> *mut c_void {
        unsafe {
            match self {
                Kind::Account => (lib.olm_account)(m).cast(),
                Kind::Session => (lib.olm_session)(m).cast(),
                Kind::Utility => (lib.olm_utility)(m).cast(),
                Kind::Outbound => (lib.olm_outbound_group_session)(m).cast(),
                Kind::Inbound => (lib.olm_inbound_group_session)(m).cast(),
                Kind::PkEnc => (lib.olm_pk_encryption)(m).cast(),
                Kind::PkDec => (lib.olm_pk_decryption)(m).cast(),
                Kind::PkSign => (lib.olm_pk_signing)(m).cast(),
                Kind::Sas => (lib.olm_sas)(m).cast(),
            }
        }
    }
    unsafe fn last_error(self, lib: &Lib, p: *mut c_void) -> u32 {
        unsafe {
            match self {
                Kind::Account => (lib.olm_account_last_error_code)(p.cast()),
                Kind::Session => (lib.olm_session_last_error_code)(p.cast()),
                Kind::Utility => (lib.olm_utility_last_error_code)(p.cast()),
                Kind::Outbound => (lib.olm_outbound_group_session_last_error_code)(p.cast()),
                Kind::Inbound => (lib.olm_inbound_group_session_last_error_code)(p.cast()),
                Kind::PkEnc => (lib.olm_pk_encryption_last_error_code)(p.cast()),
                Kind::PkDec => (lib.olm_pk_decryption_last_error_code)(p.cast()),
                Kind::PkSign => (lib.olm_pk_signing_last_error_code)(p.cast()),
                Kind::Sas => (lib.olm_sas_last_error_code)(p.cast()),
            }
        }
    }
    fn pickles(self) -> bool {
        matches!(self, Kind::Account | Kind::Session | Kind::Outbound | Kind::Inbound | Kind::PkDec)
    }
    unsafe fn pickle_length(self, lib: &Lib, p: *mut c_void) -> usize {
        unsafe {
            match self {
                Kind::Account => (lib.olm_pickle_account_length)(p.cast()),
                Kind::Session => (lib.olm_pickle_session_length)(p.cast()),
                Kind::Outbound => (lib.olm_pickle_outbound_group_session_length)(p.cast()),
                Kind::Inbound => (lib.olm_pickle_inbound_group_session_length)(p.cast()),
                Kind::PkDec => (lib.olm_pickle_pk_decryption_length)(p.cast()),
                _ => 0,
            }
        }
    }
    unsafe fn pickle(self, lib: &Lib, p: *mut c_void, key: &[u8], out: &mut [u8]) -> usize {
        let (k, kl, o, ol) = (key.as_ptr().cast(), key.len(), out.as_mut_ptr().cast(), out.len());
        unsafe {
            match self {
                Kind::Account => (lib.olm_pickle_account)(p.cast(), k, kl, o, ol),
                Kind::Session => (lib.olm_pickle_session)(p.cast(), k, kl, o, ol),
                Kind::Outbound => (lib.olm_pickle_outbound_group_session)(p.cast(), k, kl, o, ol),
                Kind::Inbound => (lib.olm_pickle_inbound_group_session)(p.cast(), k, kl, o, ol),
                Kind::PkDec => (lib.olm_pickle_pk_decryption)(p.cast(), k, kl, o, ol),
                _ => ERR,
            }
        }
    }
    unsafe fn unpickle(self, lib: &Lib, p: *mut c_void, key: &[u8], text: &mut [u8]) -> usize {
        let (k, kl, t, tl) = (key.as_ptr().cast(), key.len(), text.as_mut_ptr().cast(), text.len());
        unsafe {
            match self {
                Kind::Account => (lib.olm_unpickle_account)(p.cast(), k, kl, t, tl),
                Kind::Session => (lib.olm_unpickle_session)(p.cast(), k, kl, t, tl),
                Kind::Outbound => (lib.olm_unpickle_outbound_group_session)(p.cast(), k, kl, t, tl),
                Kind::Inbound => (lib.olm_unpickle_inbound_group_session)(p.cast(), k, kl, t, tl),
                Kind::PkDec => (lib.olm_unpickle_pk_decryption)(p.cast(), k, kl, t, tl, core::ptr::null_mut(), 0),
                _ => ERR,
            }
        }
    }
}

/// An object in one library's memory (8-byte aligned, as libolm's C++ objects need).
struct Obj {
    mem: Vec<u64>,
}

impl Obj {
    unsafe fn new(kind: Kind, lib: &Lib) -> Self {
        let size = unsafe { kind.size(lib) };
        let mut o = Obj { mem: vec![0u64; size.div_ceil(8)] };
        unsafe { kind.init(lib, o.ptr()) };
        o
    }
    fn ptr(&mut self) -> *mut c_void {
        self.mem.as_mut_ptr().cast()
    }
}

struct World {
    lib: &'static Lib,
    objs: Vec<Vec<Obj>>,
}

impl World {
    fn new(lib: &'static Lib) -> Self {
        let objs = KINDS.iter().map(|&k| (0..SLOTS).map(|_| unsafe { Obj::new(k, lib) }).collect()).collect();
        World { lib, objs }
    }
    fn p(&mut self, kind: Kind, slot: usize) -> *mut c_void {
        self.objs[kind.index()][slot].ptr()
    }
    unsafe fn reset(&mut self, kind: Kind, slot: usize) {
        self.objs[kind.index()][slot] = unsafe { Obj::new(kind, self.lib) };
    }
}

/// What one call returned: its value, its error code if it failed, and its outputs.
#[derive(Debug, PartialEq, Eq, Clone, Default)]
struct Out {
    ret: usize,
    code: Option<u32>,
    bufs: Vec<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Item {
    CurveKey,
    EdKey,
    OlmMsg(usize),
    GroupMsg,
    SessionKey,
    Exported,
    Pickle(Kind),
    PkMsg,
    Sig,
}

#[derive(Clone, Debug)]
struct Entry {
    item: Item,
    data: Vec<u8>,
    /// PK messages: the MAC and the ephemeral key; signatures: the message and the key.
    aux: Vec<Vec<u8>>,
    honest: bool,
}

/// The fuzzer's input, read as needed (zeros once exhausted).
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.byte() as usize % n }
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Both libraries, the objects' status, and the pool.
pub struct Harness {
    worlds: [World; 2],
    /// Per kind and slot: the object has keys (was created, initialised or unpickled).
    live: Vec<Vec<bool>>,
    /// Per kind and slot: the two libraries' objects may differ (after a tolerated difference
    /// that could not be healed): no longer compared.
    tainted: Vec<Vec<bool>>,
    pool: Vec<Entry>,
    /// The session slot at the other end of each session slot, when a handshake paired them.
    peer: [Option<usize>; SLOTS],
    /// Messages encrypted on a paired session and not yet delivered: (receiving slot, type,
    /// message). Delivered later, possibly after the ratchet has moved on.
    in_flight: Vec<(usize, usize, Vec<u8>)>,
    /// Counters, for the report.
    pub calls: u64,
    pub tolerated: u64,
    /// Per operation: calls that succeeded and that failed (on both libraries).
    pub stats: std::collections::BTreeMap<&'static str, (u64, u64)>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

const MAX_POOL: usize = 64;

impl Harness {
    pub fn new() -> Self {
        Harness {
            worlds: [World::new(&OURS), World::new(&REAL)],
            live: vec![vec![false; SLOTS]; KINDS.len()],
            tainted: vec![vec![false; SLOTS]; KINDS.len()],
            pool: Vec::new(),
            peer: [None; SLOTS],
            in_flight: Vec::new(),
            calls: 0,
            tolerated: 0,
            stats: Default::default(),
        }
    }

    fn push(&mut self, item: Item, data: Vec<u8>, aux: Vec<Vec<u8>>, honest: bool) {
        if data.is_empty() {
            return;
        }
        if self.pool.len() >= MAX_POOL {
            self.pool.remove(0);
        }
        self.pool.push(Entry { item, data, aux, honest });
    }

    /// A pool entry of one of `items` chosen by the input (or none).
    fn pick(&self, inp: &mut Input<'_>, items: &[fn(Item) -> bool]) -> Option<Entry> {
        let candidates: Vec<&Entry> = self.pool.iter().filter(|e| items.iter().any(|f| f(e.item))).collect();
        if candidates.is_empty() {
            return None;
        }
        Some(candidates[inp.below(candidates.len())].clone())
    }

    fn usable(&self, kind: Kind, slot: usize) -> bool {
        self.live[kind.index()][slot] && !self.tainted[kind.index()][slot]
    }

    /// Runs `f` on both libraries and compares. `honest`: every input was produced by the
    /// libraries themselves. `tolerated`: the codes with which caudata may refuse, on a
    /// dishonest input, what libolm does. Returns caudata's result and whether they agreed.
    fn both(
        &mut self,
        honest: bool,
        tolerated: &[u32],
        what: &'static str,
        f: impl Fn(&mut World) -> Out,
    ) -> (Out, bool) {
        self.calls += 1;
        let ours = f(&mut self.worlds[0]);
        let real = f(&mut self.worlds[1]);
        let s = self.stats.entry(what).or_default();
        if real.ret == ERR {
            s.1 += 1
        } else {
            s.0 += 1
        }
        if ours == real {
            return (ours, true);
        }
        let refused = ours.ret == ERR && ours.code.is_some_and(|c| tolerated.contains(&c));
        if !honest && refused {
            self.tolerated += 1;
            return (ours, false);
        }
        panic!(
            "caudata and libolm differ on {what} (honest input: {honest}):\n  caudata: {ours:?}\n  libolm:  {real:?}"
        );
    }

    /// Where libolm itself would have undefined behaviour (it writes out of bounds, or reads
    /// through a null pointer: libolm/README.md lists them), only caudata is called, and it
    /// must refuse with `code`.
    fn only_caudata(&mut self, code: u32, what: &'static str, f: impl Fn(&mut World) -> Out) {
        self.calls += 1;
        self.stats.entry("libolm UB avoided (caudata refuses)").or_default().1 += 1;
        let ours = f(&mut self.worlds[0]);
        assert!(
            ours.ret == ERR && ours.code == Some(code),
            "{what}: libolm would have undefined behaviour here, and caudata must refuse with {code}: {ours:?}"
        );
    }

    /// After a tolerated difference touching `kind`/`slot`: make caudata's object a copy of
    /// libolm's again, through libolm's pickle, or set the pair aside.
    fn heal(&mut self, kind: Kind, slot: usize) {
        if !kind.pickles() || !self.live[kind.index()][slot] {
            self.tainted[kind.index()][slot] = true;
            return;
        }
        let key = b"heal";
        unsafe {
            let rp = self.worlds[1].p(kind, slot);
            let mut text = vec![0u8; kind.pickle_length(&REAL, rp)];
            if kind.pickle(&REAL, rp, key, &mut text) == ERR {
                self.tainted[kind.index()][slot] = true;
                return;
            }
            self.worlds[0].reset(kind, slot);
            let op = self.worlds[0].p(kind, slot);
            if kind.unpickle(&OURS, op, key, &mut text) == ERR {
                self.tainted[kind.index()][slot] = true;
            }
        }
    }

    /// Both objects' pickles must be the same bytes (their whole states agree).
    fn check_state(&mut self, kind: Kind, slot: usize) {
        if !kind.pickles() || !self.usable(kind, slot) {
            return;
        }
        let (o, _) = self.both(true, &[], "pickle (state check)", |w| unsafe { pickle_out(w, kind, slot, b"state") });
        let _ = o;
    }

    /// Runs one operation read from the input. Returns false when the input is used up.
    pub fn step(&mut self, inp: &mut Input<'_>) -> bool {
        if inp.done() {
            return false;
        }
        let op = inp.byte();
        match op % 32 {
            0 => self.create_account(inp),
            1 => self.generate_one_time_keys(inp),
            2 => self.generate_fallback_key(inp),
            3 => self.account_simple(inp),
            4 => self.account_json(inp),
            5 => self.account_sign(inp),
            6 | 7 => self.create_outbound(inp),
            8 | 9 => self.encrypt(inp),
            10 => self.create_inbound(inp),
            11 | 12 => self.decrypt(inp),
            13 => self.session_queries(inp),
            14 => self.matches(inp),
            15 => self.remove_one_time_keys(inp),
            16 => self.pickle(inp),
            17 => self.unpickle(inp),
            18 => self.group_init(inp),
            19 => self.group_encrypt(inp),
            20 => self.group_inbound_init(inp),
            21 | 22 => self.group_decrypt(inp),
            23 => self.group_export(inp),
            24 => self.pk_decryption_key(inp),
            25 => self.pk_encrypt(inp),
            26 => self.pk_decrypt(inp),
            27 => self.pk_sign(inp),
            28 => self.sas(inp),
            29 => self.utility(inp),
            30 => match inp.below(3) {
                0 => self.handshake(inp),
                1 => self.exchange(inp),
                _ => self.group_round(inp),
            },
            _ => self.mutate(inp),
        }
        true
    }

    // ---------------------------------------------------------------- accounts

    fn create_account(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let short = inp.byte() < 12;
        let len = if short { inp.below(64) } else { 64 };
        let random = inp.take(len);
        self.do_create_account(slot, random);
    }

    fn do_create_account(&mut self, slot: usize, random: Vec<u8>) -> bool {
        let (o, _) = self.both(true, &[], "olm_create_account", |w| unsafe {
            let mut r = random.clone();
            w.reset(Kind::Account, slot);
            let a = w.p(Kind::Account, slot);
            let ret = (w.lib.olm_create_account)(a.cast(), r.as_mut_ptr().cast(), r.len());
            out(w, Kind::Account, slot, ret, vec![r])
        });
        self.live[0][slot] = o.ret != ERR;
        self.tainted[0][slot] = false;
        self.check_state(Kind::Account, slot);
        o.ret != ERR
    }

    fn generate_one_time_keys(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let many = inp.byte() < 8;
        let n = inp.below(if many { 120 } else { 6 });
        let short = inp.byte() < 16;
        let random = inp.take(if short { (n * 32).saturating_sub(1) } else { n * 32 });
        self.do_generate_one_time_keys(slot, n, random);
    }

    fn do_generate_one_time_keys(&mut self, slot: usize, n: usize, random: Vec<u8>) {
        if !self.usable(Kind::Account, slot) {
            return;
        }
        self.both(true, &[], "olm_account_generate_one_time_keys", |w| unsafe {
            let mut r = random.clone();
            let a = w.p(Kind::Account, slot);
            let ret = (w.lib.olm_account_generate_one_time_keys)(a.cast(), n, r.as_mut_ptr().cast(), r.len());
            out(w, Kind::Account, slot, ret, vec![r])
        });
        self.check_state(Kind::Account, slot);
    }

    fn generate_fallback_key(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let short = inp.byte() < 16;
        let random = inp.take(if short { 31 } else { 32 });
        self.do_generate_fallback_key(slot, random);
    }

    fn do_generate_fallback_key(&mut self, slot: usize, random: Vec<u8>) {
        if !self.usable(Kind::Account, slot) {
            return;
        }
        self.both(true, &[], "olm_account_generate_fallback_key", |w| unsafe {
            let mut r = random.clone();
            let a = w.p(Kind::Account, slot);
            let ret = (w.lib.olm_account_generate_fallback_key)(a.cast(), r.as_mut_ptr().cast(), r.len());
            out(w, Kind::Account, slot, ret, vec![r])
        });
        self.check_state(Kind::Account, slot);
    }

    fn account_simple(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        if !self.usable(Kind::Account, slot) {
            return;
        }
        let which = inp.below(3);
        self.both(true, &[], "olm_account_mark/forget/max", |w| unsafe {
            let a = w.p(Kind::Account, slot).cast();
            let ret = match which {
                0 => (w.lib.olm_account_mark_keys_as_published)(a),
                1 => {
                    (w.lib.olm_account_forget_old_fallback_key)(a);
                    0
                }
                _ => (w.lib.olm_account_max_number_of_one_time_keys)(a),
            };
            Out { ret, code: None, bufs: vec![] }
        });
        self.check_state(Kind::Account, slot);
    }

    fn account_json(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        if !self.usable(Kind::Account, slot) {
            return;
        }
        let which = inp.below(4);
        let shrink = if inp.byte() < 16 { 1 } else { 0 };
        let (o, _) = self.both(true, &[], "account JSON", |w| unsafe {
            let a = w.p(Kind::Account, slot).cast();
            let len = match which {
                0 => (w.lib.olm_account_identity_keys_length)(a),
                1 => (w.lib.olm_account_one_time_keys_length)(a),
                2 => (w.lib.olm_account_fallback_key_length)(a),
                _ => (w.lib.olm_account_unpublished_fallback_key_length)(a),
            };
            let mut buf = vec![0u8; len - shrink];
            let (b, l) = (buf.as_mut_ptr().cast(), buf.len());
            let ret = match which {
                0 => (w.lib.olm_account_identity_keys)(a, b, l),
                1 => (w.lib.olm_account_one_time_keys)(a, b, l),
                2 => (w.lib.olm_account_fallback_key)(a, b, l),
                _ => (w.lib.olm_account_unpublished_fallback_key)(a, b, l),
            };
            let mut o = out(w, Kind::Account, slot, ret, vec![]);
            o.bufs.push(vec![len as u8, (len >> 8) as u8]);
            if ret != ERR {
                buf.truncate(ret);
                o.bufs.push(buf);
            }
            o
        });
        if o.ret == ERR {
            return;
        }
        let json = o.bufs[1].clone();
        // the 43-character keys in the JSON: after `":"`
        let text = String::from_utf8_lossy(&json).into_owned();
        for (i, part) in text.split("\":\"").enumerate().skip(1) {
            let key: Vec<u8> = part.bytes().take(43).collect();
            let item = if which == 0 && i == 2 { Item::EdKey } else { Item::CurveKey };
            self.push(item, key, vec![], true);
        }
    }

    fn account_sign(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        if !self.usable(Kind::Account, slot) {
            return;
        }
        let n = inp.below(40);
        let msg = inp.take(n);
        let (o, _) = self.both(true, &[], "olm_account_sign", |w| unsafe {
            let a = w.p(Kind::Account, slot).cast();
            let mut sig = vec![0u8; 86];
            let ret = (w.lib.olm_account_sign)(a, msg.as_ptr().cast(), msg.len(), sig.as_mut_ptr().cast(), sig.len());
            out(w, Kind::Account, slot, ret, vec![sig])
        });
        if o.ret != ERR {
            let key = self.identity_key(slot, true);
            self.push(Item::Sig, o.bufs[0].clone(), vec![msg, key], true);
        }
    }

    /// An account's identity key (Ed25519 or Curve25519) as caudata reports it.
    fn identity_key(&mut self, slot: usize, ed: bool) -> Vec<u8> {
        unsafe {
            let w = &mut self.worlds[0];
            let a = w.p(Kind::Account, slot).cast();
            let mut buf = vec![0u8; (w.lib.olm_account_identity_keys_length)(a)];
            if (w.lib.olm_account_identity_keys)(a, buf.as_mut_ptr().cast(), buf.len()) == ERR {
                return vec![];
            }
            let at = if ed { 1 + 13 + 1 + 43 + 2 + 10 + 1 } else { 15 };
            buf[at..at + 43].to_vec()
        }
    }

    // ---------------------------------------------------------------- Olm sessions

    fn key_arg(&mut self, inp: &mut Input<'_>) -> (Vec<u8>, bool) {
        match inp.below(8) {
            0 => {
                let n = 40 + inp.below(8);
                (
                    inp.take(n)
                        .iter()
                        .map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/!"[*b as usize % 65])
                        .collect(),
                    false,
                )
            }
            _ => match self.pick(inp, &[|i| i == Item::CurveKey]) {
                Some(e) => (e.data, e.honest),
                None => (vec![b'A'; 43], false),
            },
        }
    }

    fn create_outbound(&mut self, inp: &mut Input<'_>) {
        let (s, a) = (inp.below(SLOTS), inp.below(SLOTS));
        let (id, h1) = self.key_arg(inp);
        let (otk, h2) = self.key_arg(inp);
        let short = inp.byte() < 8;
        let random = inp.take(if short { 63 } else { 64 });
        self.do_create_outbound(s, a, id, otk, h1 && h2, random);
    }

    fn do_create_outbound(
        &mut self,
        s: usize,
        a: usize,
        id: Vec<u8>,
        otk: Vec<u8>,
        honest: bool,
        random: Vec<u8>,
    ) -> bool {
        if !self.usable(Kind::Account, a) {
            return false;
        }
        let (o, agreed) = self.both(honest, &[BAD_MESSAGE_KEY_ID], "olm_create_outbound_session", |w| unsafe {
            let mut r = random.clone();
            w.reset(Kind::Session, s);
            let sp = w.p(Kind::Session, s).cast();
            let ap = w.p(Kind::Account, a).cast();
            let ret = (w.lib.olm_create_outbound_session)(
                sp,
                ap,
                id.as_ptr().cast(),
                id.len(),
                otk.as_ptr().cast(),
                otk.len(),
                r.as_mut_ptr().cast(),
                r.len(),
            );
            out(w, Kind::Session, s, ret, vec![r])
        });
        self.live[1][s] = o.ret != ERR && agreed;
        self.tainted[1][s] = false;
        self.peer[s] = None;
        self.check_state(Kind::Session, s);
        self.live[1][s]
    }

    fn encrypt(&mut self, inp: &mut Input<'_>) {
        let s = inp.below(SLOTS);
        let n = inp.below(48);
        let pt = inp.take(n);
        let short = inp.byte() < 8;
        let random = inp.take(32);
        let small = inp.byte() < 8;
        self.do_encrypt(s, pt, random, short, small);
    }

    fn do_encrypt(
        &mut self,
        s: usize,
        pt: Vec<u8>,
        random: Vec<u8>,
        short: bool,
        small: bool,
    ) -> Option<(usize, Vec<u8>)> {
        if !self.usable(Kind::Session, s) {
            return None;
        }
        let (o, _) = self.both(true, &[], "olm_encrypt", |w| unsafe {
            let sp = w.p(Kind::Session, s).cast();
            let ty = (w.lib.olm_encrypt_message_type)(sp);
            let rl = (w.lib.olm_encrypt_random_length)(sp);
            let ml = (w.lib.olm_encrypt_message_length)(sp, pt.len());
            let mut r = random[..if short { rl.saturating_sub(1) } else { rl }].to_vec();
            let mut m = vec![0u8; ml - usize::from(small)];
            let ret = (w.lib.olm_encrypt)(
                sp,
                pt.as_ptr().cast(),
                pt.len(),
                r.as_mut_ptr().cast(),
                r.len(),
                m.as_mut_ptr().cast(),
                m.len(),
            );
            // on failure the output buffer holds nothing meaningful (libolm has already written
            // part of a message into it)
            m.truncate(if ret == ERR { 0 } else { ret });
            out(w, Kind::Session, s, ret, vec![vec![ty as u8, rl as u8], m, r])
        });
        self.check_state(Kind::Session, s);
        if o.ret == ERR {
            return None;
        }
        let ty = o.bufs[0][0] as usize;
        self.push(Item::OlmMsg(ty), o.bufs[1].clone(), vec![], true);
        Some((ty, o.bufs[1].clone()))
    }

    fn olm_message(&mut self, inp: &mut Input<'_>) -> Option<(usize, Vec<u8>, bool)> {
        let e = self.pick(inp, &[|i| matches!(i, Item::OlmMsg(_))])?;
        let Item::OlmMsg(t) = e.item else { return None };
        // sometimes the wrong type
        let flip = inp.byte() < 10;
        Some((if flip { t ^ 1 } else { t }, e.data, e.honest && !flip))
    }

    fn create_inbound(&mut self, inp: &mut Input<'_>) {
        let (s, a) = (inp.below(SLOTS), inp.below(SLOTS));
        let Some((_, msg, honest)) = self.olm_message(inp) else { return };
        let from = inp.byte() < 100;
        let id = if from { Some(self.key_arg(inp)) } else { None };
        self.do_create_inbound(s, a, msg, honest, id);
    }

    fn do_create_inbound(
        &mut self,
        s: usize,
        a: usize,
        msg: Vec<u8>,
        honest: bool,
        from: Option<(Vec<u8>, bool)>,
    ) -> bool {
        if !self.usable(Kind::Account, a) {
            return false;
        }
        let h = from.as_ref().is_none_or(|f| f.1);
        let tolerated = [BAD_MESSAGE_FORMAT, BAD_MESSAGE_VERSION, BAD_MESSAGE_KEY_ID];
        // libolm copies the message's identity key through a null pointer when the message
        // has none and the caller gave one (olm_create_inbound_session_from)
        if from.as_ref().is_some_and(|(id, _)| id.len() == 43) && pre_key_lacks_identity(&msg) {
            self.only_caudata(BAD_MESSAGE_FORMAT, "olm_create_inbound_session_from", |w| unsafe {
                let mut m = msg.clone();
                w.reset(Kind::Session, s);
                let sp = w.p(Kind::Session, s).cast();
                let ap = w.p(Kind::Account, a).cast();
                let id = &from.as_ref().map(|f| f.0.clone()).unwrap_or_default();
                let ret = (w.lib.olm_create_inbound_session_from)(
                    sp,
                    ap,
                    id.as_ptr().cast(),
                    id.len(),
                    m.as_mut_ptr().cast(),
                    m.len(),
                );
                out(w, Kind::Session, s, ret, vec![])
            });
            unsafe { self.worlds[1].reset(Kind::Session, s) };
            self.live[1][s] = false;
            return false;
        }
        let (o, agreed) = self.both(honest && h, &tolerated, "olm_create_inbound_session", |w| unsafe {
            let mut m = msg.clone();
            w.reset(Kind::Session, s);
            let sp = w.p(Kind::Session, s).cast();
            let ap = w.p(Kind::Account, a).cast();
            let ret = match &from {
                Some((id, _)) => (w.lib.olm_create_inbound_session_from)(
                    sp,
                    ap,
                    id.as_ptr().cast(),
                    id.len(),
                    m.as_mut_ptr().cast(),
                    m.len(),
                ),
                None => (w.lib.olm_create_inbound_session)(sp, ap, m.as_mut_ptr().cast(), m.len()),
            };
            out(w, Kind::Session, s, ret, vec![m])
        });
        self.live[1][s] = o.ret != ERR && agreed;
        self.tainted[1][s] = false;
        self.peer[s] = None;
        self.check_state(Kind::Session, s);
        self.live[1][s]
    }

    fn decrypt(&mut self, inp: &mut Input<'_>) {
        let s = inp.below(SLOTS);
        let Some((ty, msg, honest)) = self.olm_message(inp) else { return };
        let small = inp.byte() < 8;
        self.do_decrypt(s, ty, msg, honest, small);
    }

    fn do_decrypt(&mut self, s: usize, ty: usize, msg: Vec<u8>, honest: bool, small: bool) -> bool {
        if !self.usable(Kind::Session, s) {
            return false;
        }
        let tolerated = [BAD_MESSAGE_FORMAT, BAD_MESSAGE_VERSION, BAD_MESSAGE_MAC, BAD_MESSAGE_KEY_ID];
        let (o, agreed) = self.both(honest, &tolerated, "olm_decrypt", |w| unsafe {
            let sp = w.p(Kind::Session, s).cast();
            let mut m = msg.clone();
            let max = (w.lib.olm_decrypt_max_plaintext_length)(sp, ty, m.as_mut_ptr().cast(), m.len());
            let code = if max == ERR { Some(Kind::Session.last_error(w.lib, sp.cast())) } else { None };
            let mut m = msg.clone();
            let cap = if max == ERR { 64 } else { max - usize::from(small && max > 0) };
            let mut pt = vec![0u8; cap];
            let ret = (w.lib.olm_decrypt)(sp, ty, m.as_mut_ptr().cast(), m.len(), pt.as_mut_ptr().cast(), pt.len());
            if ret != ERR {
                pt.truncate(ret);
            } else {
                pt.clear();
            }
            let mut o = out(w, Kind::Session, s, ret, vec![pt, m]);
            o.bufs.push(vec![max as u8, (max >> 8) as u8, code.unwrap_or(99) as u8]);
            o
        });
        if !agreed {
            self.heal(Kind::Session, s);
        }
        self.check_state(Kind::Session, s);
        o.ret != ERR
    }

    fn session_queries(&mut self, inp: &mut Input<'_>) {
        let s = inp.below(SLOTS);
        if !self.usable(Kind::Session, s) {
            return;
        }
        let n = inp.below(100);
        let buflen = inp.below(120);
        self.both(true, &[], "session queries", |w| unsafe {
            let sp = w.p(Kind::Session, s).cast();
            let mut id = vec![0u8; 43];
            let ret = (w.lib.olm_session_id)(sp, id.as_mut_ptr().cast(), id.len());
            let mut d = vec![0u8; buflen];
            (w.lib.olm_session_describe)(sp, d.as_mut_ptr().cast(), d.len());
            let nul = d.iter().position(|&b| b == 0).unwrap_or(d.len());
            d.truncate(nul);
            let info = vec![
                (w.lib.olm_session_has_received_message)(sp) as u8,
                (w.lib.olm_encrypt_message_type)(sp) as u8,
                (w.lib.olm_encrypt_random_length)(sp) as u8,
                (w.lib.olm_encrypt_message_length)(sp, n) as u8,
            ];
            out(w, Kind::Session, s, ret, vec![id, d, info])
        });
    }

    fn matches(&mut self, inp: &mut Input<'_>) {
        let s = inp.below(SLOTS);
        if !self.usable(Kind::Session, s) {
            return;
        }
        let Some((_, msg, honest)) = self.olm_message(inp) else { return };
        let from = inp.byte() < 100;
        let (id, h) = if from { self.key_arg(inp) } else { (vec![], true) };
        self.both(honest && h, &[], "olm_matches_inbound_session", |w| unsafe {
            let sp = w.p(Kind::Session, s).cast();
            let mut m = msg.clone();
            let ret = if from {
                (w.lib.olm_matches_inbound_session_from)(
                    sp,
                    id.as_ptr().cast(),
                    id.len(),
                    m.as_mut_ptr().cast(),
                    m.len(),
                )
            } else {
                (w.lib.olm_matches_inbound_session)(sp, m.as_mut_ptr().cast(), m.len())
            };
            out(w, Kind::Session, s, ret, vec![m])
        });
    }

    fn remove_one_time_keys(&mut self, inp: &mut Input<'_>) {
        let (a, s) = (inp.below(SLOTS), inp.below(SLOTS));
        if !self.usable(Kind::Account, a) || !self.usable(Kind::Session, s) {
            return;
        }
        self.both(true, &[], "olm_remove_one_time_keys", |w| unsafe {
            let ap = w.p(Kind::Account, a).cast();
            let sp = w.p(Kind::Session, s).cast();
            let ret = (w.lib.olm_remove_one_time_keys)(ap, sp);
            out(w, Kind::Account, a, ret, vec![])
        });
        self.check_state(Kind::Account, a);
    }

    // ---------------------------------------------------------------- pickles

    fn pickle(&mut self, inp: &mut Input<'_>) {
        let kind = [Kind::Account, Kind::Session, Kind::Outbound, Kind::Inbound, Kind::PkDec][inp.below(5)];
        let slot = inp.below(SLOTS);
        if !self.usable(kind, slot) {
            return;
        }
        let n = inp.below(12);
        let key = inp.take(n);
        let (o, _) = self.both(true, &[], "olm_pickle_*", |w| unsafe { pickle_out(w, kind, slot, &key) });
        if o.ret != ERR {
            self.push(Item::Pickle(kind), o.bufs[0].clone(), vec![key], true);
        }
    }

    fn unpickle(&mut self, inp: &mut Input<'_>) {
        let Some(e) = self.pick(inp, &[|i| matches!(i, Item::Pickle(_))]) else { return };
        let Item::Pickle(kind) = e.item else { return };
        let slot = inp.below(SLOTS);
        let wrong_key = inp.byte() < 12;
        let key = if wrong_key { b"wrong".to_vec() } else { e.aux.first().cloned().unwrap_or_default() };
        let text = e.data.clone();
        // libolm decrypts pickles in place and leaves the plaintext there; caudata does not:
        // the buffers are not compared. A pickle libolm accepts may hold keys caudata refuses.
        let (o, agreed) = self.both(e.honest, &[CORRUPTED_PICKLE, BAD_ACCOUNT_KEY], "olm_unpickle_*", |w| unsafe {
            w.reset(kind, slot);
            let p = w.p(kind, slot);
            let mut t = text.clone();
            let ret = kind.unpickle(w.lib, p, &key, &mut t);
            out(w, kind, slot, ret, vec![])
        });
        // caudata refused (tolerated) what libolm loaded: the pair differs, so the slot is left
        // unused until an operation makes both objects afresh; after a failure both are unused
        // (libolm may have half-loaded its object)
        self.live[kind.index()][slot] = agreed && o.ret != ERR;
        self.tainted[kind.index()][slot] = false;
        self.check_state(kind, slot);
    }

    // ---------------------------------------------------------------- Megolm

    fn group_init(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let short = inp.byte() < 8;
        let random = inp.take(if short { 159 } else { 160 });
        self.do_group_init(slot, random);
    }

    fn do_group_init(&mut self, slot: usize, random: Vec<u8>) -> Option<Vec<u8>> {
        let (o, _) = self.both(true, &[], "olm_init_outbound_group_session", |w| unsafe {
            w.reset(Kind::Outbound, slot);
            let p = w.p(Kind::Outbound, slot).cast();
            let mut r = random.clone();
            let ret = (w.lib.olm_init_outbound_group_session)(p, r.as_mut_ptr(), r.len());
            if ret == ERR {
                return out(w, Kind::Outbound, slot, ret, vec![r]);
            }
            let mut key = vec![0u8; 306];
            let kret = (w.lib.olm_outbound_group_session_key)(p, key.as_mut_ptr(), key.len());
            out(w, Kind::Outbound, slot, ret, vec![r, key, vec![kret as u8]])
        });
        self.live[3][slot] = o.ret != ERR;
        self.tainted[3][slot] = false;
        self.check_state(Kind::Outbound, slot);
        if o.ret == ERR {
            return None;
        }
        self.push(Item::SessionKey, o.bufs[1].clone(), vec![], true);
        Some(o.bufs[1].clone())
    }

    fn group_encrypt(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let n = inp.below(48);
        let pt = inp.take(n);
        let small = inp.byte() < 8;
        let with_key = inp.byte() < 64;
        self.do_group_encrypt(slot, pt, small, with_key);
    }

    fn do_group_encrypt(&mut self, slot: usize, pt: Vec<u8>, small: bool, with_key: bool) -> Option<Vec<u8>> {
        if !self.usable(Kind::Outbound, slot) {
            return None;
        }
        let (o, _) = self.both(true, &[], "olm_group_encrypt", |w| unsafe {
            let p = w.p(Kind::Outbound, slot).cast();
            let mut key = vec![0u8; 306];
            let kret =
                if with_key { (w.lib.olm_outbound_group_session_key)(p, key.as_mut_ptr(), key.len()) } else { ERR };
            let ml = (w.lib.olm_group_encrypt_message_length)(p, pt.len());
            let mut m = vec![0u8; ml - usize::from(small)];
            let ret = (w.lib.olm_group_encrypt)(p, pt.as_ptr(), pt.len(), m.as_mut_ptr(), m.len());
            let mut o = out(w, Kind::Outbound, slot, ret, vec![]);
            m.truncate(if ret == ERR { 0 } else { ret });
            let mut id = vec![0u8; 43];
            (w.lib.olm_outbound_group_session_id)(p, id.as_mut_ptr(), id.len());
            let idx = (w.lib.olm_outbound_group_session_message_index)(p);
            o.bufs = vec![m, id, idx.to_le_bytes().to_vec(), if kret == ERR { vec![] } else { key }];
            o
        });
        if !o.bufs[3].is_empty() {
            self.push(Item::SessionKey, o.bufs[3].clone(), vec![], true);
        }
        self.check_state(Kind::Outbound, slot);
        if o.ret == ERR {
            return None;
        }
        self.push(Item::GroupMsg, o.bufs[0].clone(), vec![], true);
        Some(o.bufs[0].clone())
    }

    fn group_inbound_init(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let Some(e) = self.pick(inp, &[|i| i == Item::SessionKey, |i| i == Item::Exported]) else { return };
        self.do_group_inbound_init(slot, e.data, e.item == Item::Exported, e.honest);
    }

    fn do_group_inbound_init(&mut self, slot: usize, key: Vec<u8>, import: bool, honest: bool) -> bool {
        // libolm accepts signatures and signing keys caudata's strict Ed25519 refuses
        let (o, agreed) =
            self.both(honest, &[BAD_SIGNATURE, BAD_SESSION_KEY], "olm_init/import_inbound_group_session", |w| unsafe {
                w.reset(Kind::Inbound, slot);
                let p = w.p(Kind::Inbound, slot).cast();
                let k = key.clone();
                let ret = if import {
                    (w.lib.olm_import_inbound_group_session)(p, k.as_ptr(), k.len())
                } else {
                    (w.lib.olm_init_inbound_group_session)(p, k.as_ptr(), k.len())
                };
                out(w, Kind::Inbound, slot, ret, vec![k])
            });
        self.live[4][slot] = o.ret != ERR && agreed;
        self.tainted[4][slot] = false;
        self.check_state(Kind::Inbound, slot);
        self.live[4][slot]
    }

    fn group_decrypt(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let Some(e) = self.pick(inp, &[|i| i == Item::GroupMsg]) else { return };
        let small = inp.byte() < 8;
        self.do_group_decrypt(slot, e.data, e.honest, small);
    }

    fn do_group_decrypt(&mut self, slot: usize, msg: Vec<u8>, honest: bool, small: bool) {
        if !self.usable(Kind::Inbound, slot) {
            return;
        }
        let tolerated = [BAD_SIGNATURE, BAD_MESSAGE_FORMAT, BAD_MESSAGE_MAC];
        let (_, agreed) = self.both(honest, &tolerated, "olm_group_decrypt", |w| unsafe {
            let p = w.p(Kind::Inbound, slot).cast();
            let mut m = msg.clone();
            let max = (w.lib.olm_group_decrypt_max_plaintext_length)(p, m.as_mut_ptr(), m.len());
            let mcode = if max == ERR { Kind::Inbound.last_error(w.lib, p.cast()) } else { 99 };
            let mut m = msg.clone();
            let cap = if max == ERR { 64 } else { max - usize::from(small && max > 0) };
            let mut pt = vec![0u8; cap];
            let mut index = 0xdead_beefu32;
            let ret = (w.lib.olm_group_decrypt)(p, m.as_mut_ptr(), m.len(), pt.as_mut_ptr(), pt.len(), &mut index);
            let mut o = out(w, Kind::Inbound, slot, ret, vec![]);
            if ret != ERR {
                pt.truncate(ret);
            } else {
                pt.clear();
            }
            let info = vec![
                (w.lib.olm_inbound_group_session_first_known_index)(p) as u8,
                (w.lib.olm_inbound_group_session_is_verified)(p) as u8,
                max as u8,
                mcode as u8,
            ];
            o.bufs = vec![pt, m, index.to_le_bytes().to_vec(), info];
            o
        });
        if !agreed {
            self.heal(Kind::Inbound, slot);
        }
        self.check_state(Kind::Inbound, slot);
    }

    fn group_export(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        if !self.usable(Kind::Inbound, slot) {
            return;
        }
        let index = match inp.below(4) {
            0 => u32::from_le_bytes([inp.byte(), inp.byte(), inp.byte(), inp.byte()]),
            _ => inp.below(12) as u32,
        };
        let (o, _) = self.both(true, &[], "olm_export_inbound_group_session", |w| unsafe {
            let p = w.p(Kind::Inbound, slot).cast();
            let mut k = vec![0u8; 220];
            let ret = (w.lib.olm_export_inbound_group_session)(p, k.as_mut_ptr(), k.len(), index);
            let mut id = vec![0u8; 43];
            (w.lib.olm_inbound_group_session_id)(p, id.as_mut_ptr(), id.len());
            out(w, Kind::Inbound, slot, ret, vec![if ret == ERR { vec![] } else { k }, id])
        });
        if o.ret != ERR {
            self.push(Item::Exported, o.bufs[0].clone(), vec![], true);
        }
        self.check_state(Kind::Inbound, slot);
    }

    // ---------------------------------------------------------------- PK

    fn pk_decryption_key(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let short = inp.byte() < 8;
        let n = if short { 31 } else { 32 };
        let private = inp.take(n);
        let (o, _) = self.both(true, &[], "olm_pk_key_from_private", |w| unsafe {
            w.reset(Kind::PkDec, slot);
            let p = w.p(Kind::PkDec, slot).cast();
            let mut pubkey = vec![0u8; 43];
            let ret = (w.lib.olm_pk_key_from_private)(
                p,
                pubkey.as_mut_ptr().cast(),
                pubkey.len(),
                private.as_ptr().cast(),
                private.len(),
            );
            if ret == ERR {
                return out(w, Kind::PkDec, slot, ret, vec![]);
            }
            let mut back = vec![0u8; 32];
            let gret = (w.lib.olm_pk_get_private_key)(p, back.as_mut_ptr().cast(), back.len());
            out(w, Kind::PkDec, slot, ret, vec![pubkey, back, vec![gret as u8]])
        });
        self.live[6][slot] = o.ret != ERR;
        self.tainted[6][slot] = false;
        if o.ret != ERR {
            self.push(Item::CurveKey, o.bufs[0].clone(), vec![], true);
        }
        self.check_state(Kind::PkDec, slot);
    }

    fn pk_encrypt(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let (key, honest) = self.key_arg(inp);
        let n = inp.below(48);
        let pt = inp.take(n);
        let random = {
            let c = inp.byte() < 8;
            inp.take(if c { 31 } else { 32 })
        };
        let small = inp.byte() < 8;
        let (o, _) = self.both(honest, &[BAD_MESSAGE_KEY_ID, BAD_ACCOUNT_KEY], "olm_pk_encrypt", |w| unsafe {
            w.reset(Kind::PkEnc, slot);
            let p = w.p(Kind::PkEnc, slot).cast();
            let sret = (w.lib.olm_pk_encryption_set_recipient_key)(p, key.as_ptr().cast(), key.len());
            let cl = (w.lib.olm_pk_ciphertext_length)(p, pt.len());
            let mut ct = vec![0u8; cl - usize::from(small)];
            let mut mac = vec![0u8; 11];
            let mut eph = vec![0u8; 43];
            let ret = (w.lib.olm_pk_encrypt)(
                p,
                pt.as_ptr().cast(),
                pt.len(),
                ct.as_mut_ptr().cast(),
                ct.len(),
                mac.as_mut_ptr().cast(),
                mac.len(),
                eph.as_mut_ptr().cast(),
                eph.len(),
                random.as_ptr().cast(),
                random.len(),
            );
            let bufs = if ret == ERR { vec![vec![sret as u8]] } else { vec![vec![sret as u8], ct, mac, eph] };
            out(w, Kind::PkEnc, slot, ret, bufs)
        });
        if o.ret != ERR {
            self.push(Item::PkMsg, o.bufs[1].clone(), vec![o.bufs[2].clone(), o.bufs[3].clone()], true);
        }
    }

    fn pk_decrypt(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        if !self.usable(Kind::PkDec, slot) {
            return;
        }
        let Some(e) = self.pick(inp, &[|i| i == Item::PkMsg]) else { return };
        let (mac, eph) = (e.aux[0].clone(), e.aux[1].clone());
        // libolm decrypts a ciphertext that is not whole AES blocks past the end of its
        // buffers (its MAC covers nothing, so anyone can send one): caudata refuses it
        let raw = caudata_raw_length(e.data.len());
        let ub = e.data.len() % 4 != 1 && (raw == 0 || raw % 16 != 0) && eph.len() == 43 && mac.len() == 11;
        let call = |w: &mut World| unsafe {
            let p = w.p(Kind::PkDec, slot).cast();
            let max = (w.lib.olm_pk_max_plaintext_length)(p, e.data.len());
            let mut ct = e.data.clone();
            let mut pt = vec![0u8; if max == ERR { 64 } else { max }];
            let ret = (w.lib.olm_pk_decrypt)(
                p,
                eph.as_ptr().cast(),
                eph.len(),
                mac.as_ptr().cast(),
                mac.len(),
                ct.as_mut_ptr().cast(),
                ct.len(),
                pt.as_mut_ptr().cast(),
                pt.len(),
            );
            if ret != ERR {
                pt.truncate(ret);
            } else {
                pt.clear();
            }
            out(w, Kind::PkDec, slot, ret, vec![pt, ct, vec![max as u8]])
        };
        if ub {
            self.only_caudata(BAD_MESSAGE_MAC, "olm_pk_decrypt", call);
        } else {
            self.both(e.honest, &[BAD_MESSAGE_MAC], "olm_pk_decrypt", call);
        }
    }

    fn pk_sign(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        let seed = {
            let c = inp.byte() < 8;
            inp.take(if c { 31 } else { 32 })
        };
        let n = inp.below(40);
        let msg = inp.take(n);
        let (o, _) = self.both(true, &[], "olm_pk_sign", |w| unsafe {
            w.reset(Kind::PkSign, slot);
            let p = w.p(Kind::PkSign, slot).cast();
            let mut pubkey = vec![0u8; 43];
            let ret = (w.lib.olm_pk_signing_key_from_seed)(
                p,
                pubkey.as_mut_ptr().cast(),
                pubkey.len(),
                seed.as_ptr().cast(),
                seed.len(),
            );
            if ret == ERR {
                return out(w, Kind::PkSign, slot, ret, vec![]);
            }
            let mut sig = vec![0u8; 86];
            let sret = (w.lib.olm_pk_sign)(p, msg.as_ptr(), msg.len(), sig.as_mut_ptr(), sig.len());
            out(w, Kind::PkSign, slot, sret, vec![pubkey, sig])
        });
        if o.ret != ERR && o.bufs.len() == 2 {
            self.push(Item::EdKey, o.bufs[0].clone(), vec![], true);
            self.push(Item::Sig, o.bufs[1].clone(), vec![msg, o.bufs[0].clone()], true);
        }
    }

    // ---------------------------------------------------------------- SAS and utility

    fn sas(&mut self, inp: &mut Input<'_>) {
        let slot = inp.below(SLOTS);
        match inp.below(4) {
            0 => {
                let random = {
                    let c = inp.byte() < 8;
                    inp.take(if c { 31 } else { 32 })
                };
                let (o, _) = self.both(true, &[], "olm_create_sas", |w| unsafe {
                    w.reset(Kind::Sas, slot);
                    let p = w.p(Kind::Sas, slot).cast();
                    let mut r = random.clone();
                    let ret = (w.lib.olm_create_sas)(p, r.as_mut_ptr().cast(), r.len());
                    if ret == ERR {
                        return out(w, Kind::Sas, slot, ret, vec![r]);
                    }
                    let mut pubkey = vec![0u8; 43];
                    let pret = (w.lib.olm_sas_get_pubkey)(p, pubkey.as_mut_ptr().cast(), pubkey.len());
                    out(w, Kind::Sas, slot, ret, vec![r, pubkey, vec![pret as u8]])
                });
                self.live[8][slot] = o.ret != ERR;
                self.tainted[8][slot] = false;
                if o.ret != ERR {
                    self.push(Item::CurveKey, o.bufs[1].clone(), vec![], true);
                }
            }
            1 => {
                if !self.usable(Kind::Sas, slot) {
                    return;
                }
                let (key, honest) = self.key_arg(inp);
                let (_, agreed) = self.both(honest, &[BAD_MESSAGE_KEY_ID], "olm_sas_set_their_key", |w| unsafe {
                    let p = w.p(Kind::Sas, slot).cast();
                    let mut k = key.clone();
                    let ret = (w.lib.olm_sas_set_their_key)(p, k.as_mut_ptr().cast(), k.len());
                    out(w, Kind::Sas, slot, ret, vec![k, vec![(w.lib.olm_sas_is_their_key_set)(p) as u8]])
                });
                if !agreed {
                    self.tainted[8][slot] = true;
                }
            }
            which => {
                if !self.usable(Kind::Sas, slot) {
                    return;
                }
                let n = inp.below(20);
                let info = inp.take(n);
                let n = inp.below(20);
                let input = inp.take(n);
                let long = inp.byte() < 4;
                let len = if long { 300 + inp.below(9000) } else { inp.below(64) };
                let variant = inp.below(3);
                self.both(true, &[], "olm_sas_generate_bytes / calculate_mac", |w| unsafe {
                    let p = w.p(Kind::Sas, slot).cast();
                    if which == 2 {
                        let mut o = vec![0u8; len];
                        let ret = (w.lib.olm_sas_generate_bytes)(
                            p,
                            info.as_ptr().cast(),
                            info.len(),
                            o.as_mut_ptr().cast(),
                            o.len(),
                        );
                        out(w, Kind::Sas, slot, ret, vec![if ret == ERR { vec![] } else { o }])
                    } else {
                        let mut mac = vec![0u8; 43 - usize::from(len < 2)];
                        let f = [
                            w.lib.olm_sas_calculate_mac,
                            w.lib.olm_sas_calculate_mac_fixed_base64,
                            w.lib.olm_sas_calculate_mac_long_kdf,
                        ][variant];
                        let ret = f(
                            p,
                            input.as_ptr().cast(),
                            input.len(),
                            info.as_ptr().cast(),
                            info.len(),
                            mac.as_mut_ptr().cast(),
                            mac.len(),
                        );
                        out(w, Kind::Sas, slot, ret, vec![if ret == ERR { vec![] } else { mac }])
                    }
                });
            }
        }
    }

    fn utility(&mut self, inp: &mut Input<'_>) {
        if inp.byte() < 64 {
            let n = inp.below(64);
            let data = inp.take(n);
            let small = inp.byte() < 16;
            self.both(true, &[], "olm_sha256", |w| unsafe {
                let u = w.p(Kind::Utility, 0).cast();
                let mut o = vec![0u8; 43 - usize::from(small)];
                let ret = (w.lib.olm_sha256)(u, data.as_ptr().cast(), data.len(), o.as_mut_ptr().cast(), o.len());
                out(w, Kind::Utility, 0, ret, vec![o])
            });
            return;
        }
        let Some(sig) = self.pick(inp, &[|i| i == Item::Sig]) else { return };
        let (msg, key) = (sig.aux[0].clone(), sig.aux[1].clone());
        let (key, kh) = if inp.byte() < 24 {
            match self.pick(inp, &[|i| i == Item::EdKey, |i| i == Item::CurveKey]) {
                Some(e) => (e.data, e.honest),
                None => (key, true),
            }
        } else {
            (key, true)
        };
        // strict Ed25519: caudata refuses malleable signatures and small-order keys
        self.both(sig.honest && kh, &[5], "olm_ed25519_verify", |w| unsafe {
            let u = w.p(Kind::Utility, 0).cast();
            let mut s = sig.data.clone();
            let ret = (w.lib.olm_ed25519_verify)(
                u,
                key.as_ptr().cast(),
                key.len(),
                msg.as_ptr().cast(),
                msg.len(),
                s.as_mut_ptr().cast(),
                s.len(),
            );
            out(w, Kind::Utility, 0, ret, vec![s])
        });
    }

    // ---------------------------------------------------------------- whole exchanges

    /// The first JSON key of account `slot` (one-time keys, or the fallback key), as caudata
    /// reports it (both libraries' states were checked equal).
    fn first_key(&mut self, slot: usize, fallback: bool) -> Option<Vec<u8>> {
        unsafe {
            let w = &mut self.worlds[0];
            let a = w.p(Kind::Account, slot).cast();
            let len = if fallback {
                (w.lib.olm_account_fallback_key_length)(a)
            } else {
                (w.lib.olm_account_one_time_keys_length)(a)
            };
            let mut buf = vec![0u8; len];
            let ret = if fallback {
                (w.lib.olm_account_fallback_key)(a, buf.as_mut_ptr().cast(), len)
            } else {
                (w.lib.olm_account_one_time_keys)(a, buf.as_mut_ptr().cast(), len)
            };
            if ret == ERR || ret < 25 + 43 {
                return None;
            }
            Some(buf[25..25 + 43].to_vec())
        }
    }

    /// Two accounts, a session from the first to the second through a one-time or fallback
    /// key, its first message decrypted, and the pair of session slots remembered.
    fn handshake(&mut self, inp: &mut Input<'_>) {
        let (a, b) = (inp.below(SLOTS), inp.below(SLOTS));
        let (sa, sb) = (inp.below(SLOTS), inp.below(SLOTS));
        if a == b || sa == sb {
            return;
        }
        for acc in [a, b] {
            if !self.usable(Kind::Account, acc) || inp.byte() < 32 {
                let r = inp.take(64);
                self.do_create_account(acc, r);
            }
        }
        let fallback = inp.byte() < 64;
        if fallback {
            let r = inp.take(32);
            self.do_generate_fallback_key(b, r);
        } else {
            let n = 1 + inp.below(3);
            let r = inp.take(32 * n);
            self.do_generate_one_time_keys(b, n, r);
        }
        let id = self.identity_key(b, false);
        let Some(otk) = self.first_key(b, fallback) else { return };
        let r = inp.take(64);
        if !self.do_create_outbound(sa, a, id, otk, true, r) {
            return;
        }
        let n = inp.below(32);
        let pt = inp.take(n);
        let r = inp.take(32);
        let Some((_, msg)) = self.do_encrypt(sa, pt, r, false, false) else { return };
        let from = if inp.byte() < 128 { Some((self.identity_key(a, false), true)) } else { None };
        if !self.do_create_inbound(sb, b, msg.clone(), true, from) {
            return;
        }
        self.do_decrypt(sb, 0, msg, true, false);
        if inp.byte() < 128 {
            self.both(true, &[], "olm_remove_one_time_keys", |w| unsafe {
                let ap = w.p(Kind::Account, b).cast();
                let sp = w.p(Kind::Session, sb).cast();
                let ret = (w.lib.olm_remove_one_time_keys)(ap, sp);
                out(w, Kind::Account, b, ret, vec![])
            });
            self.check_state(Kind::Account, b);
        }
        self.peer[sa] = Some(sb);
        self.peer[sb] = Some(sa);
    }

    /// A few messages one way on a paired session, then some of the messages in flight to its
    /// peer delivered in an order the input chooses (older ones possibly after the ratchet moved
    /// on), some never, some twice.
    fn exchange(&mut self, inp: &mut Input<'_>) {
        let s = inp.below(SLOTS);
        let Some(t) = self.peer[s] else { return };
        if self.peer[t] != Some(s) {
            return;
        }
        let k = inp.below(6);
        for _ in 0..k {
            let n = inp.below(40);
            let pt = inp.take(n);
            let r = inp.take(32);
            if let Some((ty, m)) = self.do_encrypt(s, pt, r, false, false) {
                if self.in_flight.len() >= 32 {
                    self.in_flight.remove(0);
                }
                self.in_flight.push((t, ty, m));
            }
        }
        let deliveries = inp.below(2 * k + 2);
        for _ in 0..deliveries {
            let mine: Vec<usize> = (0..self.in_flight.len()).filter(|&i| self.in_flight[i].0 == t).collect();
            if mine.is_empty() {
                break;
            }
            let i = mine[inp.below(mine.len())];
            let (_, ty, m) = if inp.byte() < 200 { self.in_flight.remove(i) } else { self.in_flight[i].clone() };
            self.do_decrypt(t, ty, m, true, false);
        }
    }

    /// A group session, an inbound copy from its key (sometimes an export of it at a later
    /// index), and messages delivered out of order.
    fn group_round(&mut self, inp: &mut Input<'_>) {
        let (o, i) = (inp.below(SLOTS), inp.below(SLOTS));
        if !self.usable(Kind::Outbound, o) || inp.byte() < 64 {
            let r = inp.take(160);
            self.do_group_init(o, r);
        }
        let ahead = inp.below(4);
        for _ in 0..ahead {
            self.do_group_encrypt(o, vec![], false, false);
        }
        let key = unsafe {
            let w = &mut self.worlds[0];
            let p = w.p(Kind::Outbound, o).cast();
            let mut key = vec![0u8; 306];
            if (w.lib.olm_outbound_group_session_key)(p, key.as_mut_ptr(), key.len()) == ERR {
                return;
            }
            key
        };
        if !self.do_group_inbound_init(i, key, false, true) {
            return;
        }
        let k = 1 + inp.below(6);
        let mut msgs = Vec::new();
        for _ in 0..k {
            let n = inp.below(40);
            let pt = inp.take(n);
            if let Some(m) = self.do_group_encrypt(o, pt, false, false) {
                msgs.push(m);
            }
        }
        let deliveries = inp.below(2 * k + 1);
        for _ in 0..deliveries {
            if msgs.is_empty() {
                break;
            }
            let m = msgs[inp.below(msgs.len())].clone();
            self.do_group_decrypt(i, m, true, false);
        }
    }

    // ---------------------------------------------------------------- mutations

    fn mutate(&mut self, inp: &mut Input<'_>) {
        if self.pool.is_empty() {
            return;
        }
        let mut e = self.pool[inp.below(self.pool.len())].clone();
        let target = if !e.aux.is_empty() && inp.byte() < 64 { inp.below(e.aux.len()) + 1 } else { 0 };
        let data = if target == 0 { &mut e.data } else { &mut e.aux[target - 1] };
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        match inp.below(8) {
            0 | 1 => {
                // one character changed to another base64 character
                if !data.is_empty() {
                    let i = inp.below(data.len());
                    data[i] = B64[inp.below(64)];
                }
            }
            2 => {
                // raw bytes flipped (decode, flip, encode), which keeps the length
                let mut raw = decode(data);
                if !raw.is_empty() {
                    let i = inp.below(raw.len());
                    raw[i] ^= 1 << inp.below(8);
                    *data = encode(&raw);
                }
            }
            3 => {
                let n = inp.below(data.len() + 1);
                data.truncate(n);
            }
            4 => {
                let n = inp.below(8);
                data.extend(inp.take(n).iter().map(|b| B64[*b as usize % 64]));
            }
            5 => {
                // raw bytes inserted or removed (protobuf fields, versions, lengths)
                let mut raw = decode(data);
                let i = inp.below(raw.len() + 1);
                if inp.byte() < 128 && i < raw.len() {
                    raw.remove(i);
                } else {
                    let n = inp.below(4) + 1;
                    let bytes = inp.take(n);
                    raw.splice(i..i, bytes);
                }
                *data = encode(&raw);
            }
            6 => {
                // any byte at all, base64 or not
                if !data.is_empty() {
                    let i = inp.below(data.len());
                    data[i] = inp.byte();
                }
            }
            _ => {
                // splice another entry's raw bytes in
                let other = self.pool[inp.below(self.pool.len())].data.clone();
                let mut raw = decode(data);
                let o = decode(&other);
                let at = inp.below(raw.len() + 1);
                let from = inp.below(o.len() + 1);
                let n = inp.below(o.len() - from + 1);
                raw.truncate(at);
                raw.extend_from_slice(&o[from..from + n]);
                *data = encode(&raw);
            }
        }
        e.honest = false;
        self.push(e.item, e.data.clone(), e.aux.clone(), false);
    }
}

/// The outcome of a call on object `kind`/`slot`: its error code if it failed.
unsafe fn out(w: &mut World, kind: Kind, slot: usize, ret: usize, bufs: Vec<Vec<u8>>) -> Out {
    let code = if ret == ERR { Some(unsafe { kind.last_error(w.lib, w.p(kind, slot)) }) } else { None };
    Out { ret, code, bufs }
}

unsafe fn pickle_out(w: &mut World, kind: Kind, slot: usize, key: &[u8]) -> Out {
    let p = w.p(kind, slot);
    let len = unsafe { kind.pickle_length(w.lib, p) };
    let mut text = vec![0u8; len];
    let ret = unsafe { kind.pickle(w.lib, p, key, &mut text) };
    unsafe { out(w, kind, slot, ret, vec![text]) }
}

/// libolm's decoded length of `n` base64 characters (0 for an impossible length).
fn caudata_raw_length(n: usize) -> usize {
    if n % 4 == 1 { 0 } else { n / 4 * 3 + (n % 4).saturating_sub(1) }
}

/// Whether libolm's reader finds the message fields of a pre-key message (which libolm then
/// requires) but no identity key in it (see `do_create_inbound`). A copy of the scan in
/// caudata-libolm's scan.rs, which follows libolm's reader.
fn pre_key_lacks_identity(b64: &[u8]) -> bool {
    let raw = libolm_decode(b64);
    let Some(raw) = raw else { return false };
    let (mut pos, end) = (1usize, raw.len());
    if raw.is_empty() {
        return false;
    }
    let skip = |pos: &mut usize| {
        while *pos < end {
            let b = raw[*pos];
            *pos += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    };
    let value = |from: usize, to: usize| raw[from..to].iter().rev().fold(0u64, |v, b| (v << 7) | u64::from(b & 0x7F));
    let mut seen = [false; 4];
    while pos < end {
        let start = pos;
        for (i, tag) in [0x0Au8, 0x12, 0x1A, 0x22].into_iter().enumerate() {
            if pos < end && raw[pos] == tag {
                pos += 1;
                let ls = pos;
                skip(&mut pos);
                let len = value(ls, pos);
                if len > (end - pos) as u64 {
                    pos = end;
                } else {
                    pos += len as usize;
                    seen[i] = true;
                }
            }
        }
        if pos == start {
            match raw[pos] & 7 {
                0 => {
                    skip(&mut pos);
                    skip(&mut pos);
                }
                2 => {
                    skip(&mut pos);
                    let ls = pos;
                    skip(&mut pos);
                    let len = value(ls, pos);
                    pos = if len > (end - pos) as u64 { end } else { pos + len as usize };
                }
                _ => pos = end,
            }
        }
    }
    !seen[2]
}

/// libolm's base64 decoding (characters outside the alphabet decode to libolm's 0xFF pattern).
fn libolm_decode(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let val = |c: u8| -> u32 {
        match c & 0x7F {
            c @ b'A'..=b'Z' => u32::from(c - b'A'),
            c @ b'a'..=b'z' => u32::from(c - b'a') + 26,
            c @ b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => 0xFF,
        }
    };
    let mut out = Vec::new();
    for c in text.chunks(4) {
        let mut v = 0u32;
        for &ch in c {
            v = (v << 6) | val(ch);
        }
        match c.len() {
            4 => out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]),
            3 => {
                v >>= 2;
                out.extend_from_slice(&[(v >> 8) as u8, v as u8]);
            }
            _ => out.push((v >> 4) as u8),
        }
    }
    Some(out)
}

/// Standard base64 without padding (libolm's).
fn encode(raw: &[u8]) -> Vec<u8> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for c in raw.chunks(3) {
        let v =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(B64[((v >> (18 - 6 * i)) & 63) as usize]);
        }
    }
    out
}

/// Lenient base64 decoding (anything outside the alphabet counts as 0).
fn decode(text: &[u8]) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => 0,
    };
    let mut out = Vec::new();
    for c in text.chunks(4) {
        if c.len() < 2 {
            break;
        }
        let v = c.iter().enumerate().fold(0u32, |v, (i, &ch)| v | (u32::from(val(ch)) << (18 - 6 * i)));
        for i in 0..c.len() - 1 {
            out.push((v >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// One fuzz input: a fresh pair of libraries' objects, then the input's operations.
pub fn run(data: &[u8]) -> Harness {
    let mut h = Harness::new();
    let mut inp = Input { data, pos: 0 };
    let mut steps = 0;
    while steps < 64 && h.step(&mut inp) {
        steps += 1;
    }
    h
}
