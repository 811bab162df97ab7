//! Gives the shared library libolm's soname, so that programs linked against it (and against
//! libolm 3.x itself) load it as `libolm.so.3`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libolm.so.3");
    } else if os == "macos" || os == "ios" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libolm.3.dylib");
    }
}
