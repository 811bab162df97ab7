//! Replays every checked-in fuzz corpus file (`fuzz/corpus/<target>/*`) through the same
//! `caudata::fuzzing` function its cargo-fuzz target calls, on stable Rust, so a crash once
//! found (and its input added to the corpus) stays fixed. `generate_seed_corpus` (ignored; run
//! it with `cargo test --all-features --test fuzz_corpus -- --ignored`) rewrites the seeds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::{Path, PathBuf};

use caudata::fuzzing::{PICKLE_KEY, TARGETS, libolm_pickle_decrypt, seeds};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz").join("corpus").join(target)
}

#[test]
fn every_target_has_a_fuzz_target_file_and_seeds() {
    for (name, _) in TARGETS {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(text.contains(&format!("caudata::fuzzing::{name}(")), "{name}: target calls another function");
        let n = std::fs::read_dir(corpus_dir(name)).map(|d| d.count()).unwrap_or(0);
        assert!(n > 0, "{name}: no seed corpus");
    }
}

#[test]
fn replay_corpora() {
    let mut total = 0;
    for (name, f) in TARGETS {
        let Ok(dir) = std::fs::read_dir(corpus_dir(name)) else { continue };
        let mut files: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let r = std::panic::catch_unwind(|| f(&data));
            assert!(r.is_ok(), "{name}: {} fails", file.display());
            total += 1;
        }
    }
    assert!(total > 0);
}

/// The seeds must exercise the code behind the checks, not only the decoders' refusals.
#[test]
fn seeds_reach_the_interesting_paths() {
    use caudata::fuzzing::{run_interolm, run_olm, steps_from_bytes};
    for s in seeds("interaction_olm") {
        let stats = run_olm(&steps_from_bytes(&s));
        assert!(stats.decrypted > 2, "{stats:?}");
    }
    let mut pickled = 0;
    for s in seeds("interaction_interolm") {
        let stats = run_interolm(s[0].is_multiple_of(2), &steps_from_bytes(&s[1..]));
        assert!(stats.decrypted > 2, "{stats:?}");
        pickled += stats.pickles;
    }
    assert!(pickled > 0, "no interolm seed reaches a pickle round trip");
    // every adversary scenario delivers forged messages, and some are accepted
    for s in seeds("adversary") {
        let stats = caudata::fuzzing::adversary::run_scenario(
            s[0],
            &caudata::fuzzing::adversary::actions_from_bytes(&s[1..]),
            &mut caudata::fuzzing::adversary::NoHooks,
        );
        assert!(stats.cases > 0, "adversary seed {s:?} delivers nothing: {stats:?}");
    }
    // a seed of every decrypt target decrypts (the fixtures are rebuilt afterwards)
    let f = caudata::fuzzing::olm_fixture();
    let m = &f.pending[0];
    let mut bob = f.bob;
    assert!(bob.decrypt(m).is_ok());
}

/// Writes `fuzz/corpus/<target>/seed-NN`: the library's seeds plus real vodozemac pickles.
#[test]
#[ignore = "rewrites the checked-in seed corpora"]
fn generate_seed_corpus() {
    use vodozemac::megolm as vm;
    use vodozemac::olm as vo;
    // FUZZ_TARGETS=a,b limits the rewrite to those targets (the vodozemac pickles are random)
    let only = std::env::var("FUZZ_TARGETS").ok();
    for (name, _) in TARGETS {
        if only.as_ref().is_some_and(|o| !o.split(',').any(|t| t == *name)) {
            continue;
        }
        let mut all = seeds(name);
        if *name == "unpickle_vodozemac" {
            let alice = vo::Account::new();
            let mut bob = vo::Account::new();
            bob.generate_one_time_keys(1);
            let otk = *bob.one_time_keys().values().next().unwrap();
            let mut s =
                alice.create_outbound_session(vo::SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
            s.encrypt("x").unwrap();
            let mut gs = vm::GroupSession::new(vm::SessionConfig::version_1());
            let igs = vm::InboundGroupSession::new(&gs.session_key(), vm::SessionConfig::version_1());
            gs.encrypt("y");
            let texts = [
                alice.pickle().encrypt(&PICKLE_KEY),
                s.pickle().encrypt(&PICKLE_KEY),
                gs.pickle().encrypt(&PICKLE_KEY),
                igs.pickle().encrypt(&PICKLE_KEY),
            ];
            for (i, t) in texts.iter().enumerate() {
                all.push([&[i as u8 | 4][..], t.as_bytes()].concat());
                let json = libolm_pickle_decrypt(t, &PICKLE_KEY).unwrap();
                all.push([&[i as u8][..], &json].concat());
            }
        }
        let dir = corpus_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            // only the generated `seed-NN` files: regression inputs (`seed-regress-*`), capture
            // seeds (`seed-capture-*`) and old-format seeds (`seed-v2-*`, format 2 pickles) stay
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            if file.strip_prefix("seed-").is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())) {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (i, s) in all.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), s).unwrap();
        }
    }
}

// ---------------------------------------------------------------- the serde target

struct Json;
impl caudata::fuzzing::SerdeFormat for Json {
    fn read<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        serde_json::from_slice(bytes).ok()
    }
    fn write<T: serde::Serialize>(&self, value: &T) -> Option<Vec<u8>> {
        serde_json::to_vec(value).ok()
    }
}

struct MessagePack;
impl caudata::fuzzing::SerdeFormat for MessagePack {
    fn read<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        rmp_serde::from_slice(bytes).ok()
    }
    fn write<T: serde::Serialize>(&self, value: &T) -> Option<Vec<u8>> {
        rmp_serde::to_vec_named(value).ok()
    }
}

fn serde_target(data: &[u8]) -> bool {
    caudata::fuzzing::serde_vodozemac(data, &Json, &MessagePack)
}

#[test]
fn serde_target_has_its_file_and_seeds_and_replays() {
    let name = caudata::fuzzing::SERDE_TARGET;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets").join(format!("{name}.rs"));
    let text = std::fs::read_to_string(&src).unwrap();
    assert!(text.contains(&format!("caudata::fuzzing::{name}(")));
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(corpus_dir(name)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    assert!(files.len() >= 30, "{}", files.len());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let r = std::panic::catch_unwind(|| serde_target(&data));
        assert!(r.is_ok(), "{name}: {} fails", file.display());
    }
}

/// Every seed of the serde target is read (the seeds reach the code behind the readers), and
/// damaged copies of each (every byte flipped, truncations) are refused or read without a panic.
#[test]
fn serde_seeds_are_read_and_damage_never_panics() {
    use caudata::fuzzing::SerdeFormat;
    let seeds = serde_seeds();
    for (i, s) in seeds.iter().enumerate() {
        let (sel, body) = (s[0], &s[1..]);
        let f: &dyn Fn(&[u8]) -> bool = if sel & 0x80 != 0 {
            &|b| MessagePack.read::<serde::de::IgnoredAny>(b).is_some()
        } else {
            &|b| Json.read::<serde::de::IgnoredAny>(b).is_some()
        };
        assert!(f(body), "seed {i} is not even well-formed");
        assert!(serde_target(s), "seed {i} is not read by caudata");
        for cut in [1, body.len() / 2, body.len().saturating_sub(1)] {
            serde_target(&[&[sel][..], &body[..cut.min(body.len())]].concat());
        }
        for at in (0..body.len()).step_by(7) {
            let mut d = s.clone();
            d[1 + at] ^= 0x5a;
            serde_target(&d);
            d[1 + at] = b'9';
            serde_target(&d);
        }
    }
}

/// The serde target's seeds: every type in both formats, written by vodozemac.
fn serde_seeds() -> Vec<Vec<u8>> {
    use vodozemac::megolm as vm;
    use vodozemac::olm as vo;
    let mut bob = vo::Account::new();
    bob.generate_one_time_keys(3);
    bob.generate_fallback_key();
    let alice = vo::Account::new();
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    let mut a = alice.create_outbound_session(vo::SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let pre = a.encrypt("x").unwrap();
    let vo::OlmMessage::PreKey(pk) = &pre else { unreachable!() };
    let mut b = bob.create_inbound_session(vo::SessionConfig::version_1(), alice.curve25519_key(), pk).unwrap().session;
    let normal = b.encrypt("y").unwrap();
    a.decrypt(&normal).unwrap();
    let mut g = vm::GroupSession::new(vm::SessionConfig::version_2());
    let ig = vm::InboundGroupSession::new(&g.session_key(), vm::SessionConfig::version_2());
    let gm = g.encrypt("z");
    let mut out = Vec::new();
    let mut both = |sel: u8, v: &dyn erased::Ser| {
        out.push([&[sel][..], &v.json()].concat());
        out.push([&[sel | 0x80][..], &v.msgpack()].concat());
    };
    both(0, &bob.pickle());
    both(1, &a.pickle());
    both(1, &b.pickle());
    both(2, &g.pickle());
    both(3, &ig.pickle());
    both(4, &pre);
    both(4, &normal);
    both(5, &gm);
    both(6, &g.session_key());
    both(7, &ig.export_at_first_known_index());
    both(8, &bob.curve25519_key());
    both(9, &bob.ed25519_key());
    both(10, &vodozemac::Ed25519SecretKey::new());
    both(11, &vodozemac::Curve25519SecretKey::new());
    both(12, &bob.identity_keys());
    both(13, &vo::SessionConfig::version_2());
    both(14, &a.session_keys());
    both(15, pk);
    // a session vodozemac imported from libolm (receiving chains newest first)
    let mut cd_a = caudata::olm::Account::new();
    let cd_b = caudata::olm::Account::new();
    cd_a.generate_one_time_keys(1);
    let k = *cd_a.one_time_keys().values().next().unwrap();
    let mut s =
        cd_b.create_outbound_session(caudata::olm::SessionConfig::version_1(), cd_a.curve25519_key(), k).unwrap();
    let caudata::olm::OlmMessage::PreKey(p) = s.encrypt(b"1") else { unreachable!() };
    let mut r = cd_a
        .create_inbound_session(caudata::olm::SessionConfig::version_1(), cd_b.curve25519_key(), &p)
        .unwrap()
        .session;
    for _ in 0..2 {
        s.decrypt(&r.encrypt(b"2")).unwrap();
        r.decrypt(&s.encrypt(b"3")).unwrap();
    }
    let from_libolm = vo::Session::from_libolm_pickle(&r.to_libolm_pickle(b"").unwrap(), b"").unwrap();
    both(1, &from_libolm.pickle());
    out
}

/// Object-safe serialization into the two formats, for the seed list.
mod erased {
    pub(super) trait Ser {
        fn json(&self) -> Vec<u8>;
        fn msgpack(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap()
        }
        fn msgpack(&self) -> Vec<u8> {
            rmp_serde::to_vec_named(self).unwrap()
        }
    }
}

/// Writes `fuzz/corpus/serde_vodozemac/seed-NN` (vodozemac's values are random: rerun only to
/// change the seeds).
#[test]
#[ignore = "rewrites the checked-in seed corpus of the serde target"]
fn generate_serde_seed_corpus() {
    let dir = corpus_dir(caudata::fuzzing::SERDE_TARGET);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, s) in serde_seeds().iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), s).unwrap();
    }
}
