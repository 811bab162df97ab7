//! Compiles libolm 3.2.16 itself, from python-olm 3.2.16's source package (its `libolm/`
//! directory, given in LIBOLM_SRC; `fuzz/run-ci.sh` fetches and checks it), into a static
//! library whose exported functions are renamed `real_<name>`, so that it links beside
//! caudata-libolm's functions of the same names.

use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBOLM_SRC");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(src) = std::env::var_os("LIBOLM_SRC").map(PathBuf::from) else {
        eprintln!("LIBOLM_SRC must name libolm 3.2.16's source directory (fuzz/run-ci.sh sets it)");
        std::process::exit(1);
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());

    // every function libolm exports, renamed by a header forced into each source file
    let mut names = Vec::new();
    for h in [
        "olm.h",
        "pk.h",
        "sas.h",
        "inbound_group_session.h",
        "outbound_group_session.h",
        "error.h",
        "pickle_encoding.h",
        "crypto.h",
    ] {
        let text = fs::read_to_string(src.join("include/olm").join(h)).unwrap_or_default();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("OLM_EXPORT") {
            rest = &rest[i + "OLM_EXPORT".len()..];
            let decl = &rest[..rest.find('(').unwrap_or(0)];
            if let Some(name) =
                decl.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).last()
            {
                names.push(name.to_owned());
            }
        }
    }
    assert!(names.len() >= 160, "found only {} exported functions in {}", names.len(), src.display());
    let rename: String = names.iter().map(|n| format!("#define {n} real_{n}\n")).collect();
    let header = out.join("real_libolm_rename.h");
    fs::write(&header, rename).unwrap_or_default();

    let c_files = [
        "src/sas.c",
        "src/ed25519.c",
        "src/error.c",
        "src/inbound_group_session.c",
        "src/megolm.c",
        "src/outbound_group_session.c",
        "src/pickle_encoding.c",
        "lib/crypto-algorithms/aes.c",
        "lib/crypto-algorithms/sha256.c",
        "lib/curve25519-donna/curve25519-donna.c",
    ];
    let cpp_files = [
        "src/account.cpp",
        "src/base64.cpp",
        "src/cipher.cpp",
        "src/crypto.cpp",
        "src/memory.cpp",
        "src/message.cpp",
        "src/pickle.cpp",
        "src/ratchet.cpp",
        "src/session.cpp",
        "src/utility.cpp",
        "src/pk.cpp",
        "src/olm.cpp",
    ];
    // One archive (the C and C++ halves call each other); gcc picks each file's language from
    // its extension. libolm's own build uses C99 and C++11; the compilers' defaults accept it.
    cc::Build::new()
        .include(src.join("include"))
        .include(src.join("lib"))
        .define("OLMLIB_VERSION_MAJOR", "3")
        .define("OLMLIB_VERSION_MINOR", "2")
        .define("OLMLIB_VERSION_PATCH", "16")
        .flag("-include")
        .flag(header.to_str().unwrap_or_default())
        .opt_level(2)
        .warnings(false)
        .files(c_files.iter().chain(cpp_files.iter()).map(|f| src.join(f)))
        .compile("real_olm");
    println!("cargo:rustc-link-lib=stdc++");
}
