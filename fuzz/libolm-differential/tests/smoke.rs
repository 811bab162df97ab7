//! The differential harness on stable Rust, without libFuzzer: pseudo-random programs from a
//! fixed seed (xorshift), so that `cargo test` runs the comparison on any machine. The
//! coverage-guided runs are `fuzz/run-ci.sh libolm_differential`.

fn programs(count: usize, len: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut x = seed;
    (0..count).map(move |_| {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    })
}

#[test]
fn random_programs_agree() {
    let n: usize = std::env::var("DIFF_PROGRAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let (mut calls, mut tolerated) = (0, 0);
    let mut stats = std::collections::BTreeMap::<&str, (u64, u64)>::new();
    let only: Option<usize> = std::env::var("DIFF_ONLY").ok().and_then(|v| v.parse().ok());
    for (i, p) in programs(n, 2000, 0x5eed_cafe_f00d_0001).enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        if std::env::var_os("DIFF_TRACE").is_some() {
            eprintln!("program {i}");
        }
        let h = libolm_differential::run(&p);
        calls += h.calls;
        tolerated += h.tolerated;
        for (k, (ok, err)) in h.stats {
            let e = stats.entry(k).or_default();
            e.0 += ok;
            e.1 += err;
        }
    }
    println!("{n} programs: {calls} calls made on both libraries, {tolerated} tolerated differences");
    for (k, (ok, err)) in stats {
        println!("  {k:45} {ok:8} succeeded {err:8} failed");
    }
    assert!(calls > 1000 * n as u64 / 100, "the programs made too few calls ({calls})");
}
