//! Instruction counts for what matrix-rust-sdk's store does with vodozemac's pickle structs (a
//! module of `instructions.rs`, same protocol), on the real vodozemac 0.11.1 ("vodozemac") and
//! on the facade (compat/vodozemac, vodozemac's API on caudata: the "caudata" column):
//!
//! * `facade_pickle_account_50otk`: `rmp_serde::to_vec_named(&account.pickle())` of an account
//!   with 50 unpublished one-time keys and a fallback key (matrix-sdk-sqlite's MessagePack);
//! * `facade_pickle_olm_session`: the same for an established Olm session (both chains used);
//! * `…_encrypted`: `pickle().encrypt(&key)`, vodozemac's encrypted JSON string.
//!
//! `pickle()` is inside the measurement: it is the snapshot copy each library makes.

use std::hint::black_box;

use super::{KEY, measured};

pub(crate) const OPS: &[&str] = &[
    "facade_pickle_account_50otk",
    "facade_pickle_account_50otk_encrypted",
    "facade_pickle_olm_session",
    "facade_pickle_olm_session_encrypted",
];

macro_rules! ops_of {
    ($lib:ident, $op:expr, $n:expr) => {{
        let (op, n): (&str, usize) = ($op, $n);
        if op.starts_with("facade_pickle_account") {
            let mut a = $lib::olm::Account::new();
            a.generate_one_time_keys(50);
            a.generate_fallback_key();
            if op.ends_with("_encrypted") {
                measured(|| {
                    for _ in 0..n {
                        black_box(a.pickle().encrypt(&KEY));
                    }
                })
            } else {
                measured(|| {
                    for _ in 0..n {
                        black_box(rmp_serde::to_vec_named(&a.pickle()).unwrap());
                    }
                })
            }
        } else {
            let (s, _) = olm_pair_of!($lib);
            if op.ends_with("_encrypted") {
                measured(|| {
                    for _ in 0..n {
                        black_box(s.pickle().encrypt(&KEY));
                    }
                })
            } else {
                measured(|| {
                    for _ in 0..n {
                        black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap());
                    }
                })
            }
        }
    }};
}

/// Runs `op` for `lib` if it is one of these; `false` otherwise.
pub(crate) fn run(op: &str, lib: &str, n: usize) -> bool {
    if !OPS.contains(&op) {
        return false;
    }
    match lib {
        "caudata" => {
            use vodozemac_facade as fa;
            ops_of!(fa, op, n)
        }
        "vodozemac" => {
            use vodozemac as vz;
            ops_of!(vz, op, n)
        }
        _ => panic!("library: caudata or vodozemac"),
    }
    true
}
