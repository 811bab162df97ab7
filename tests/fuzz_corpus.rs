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
