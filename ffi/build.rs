//! Builds the variadic rd_kafka_producev shim and gives the shared library librdkafka's soname.
fn main() {
    println!("cargo:rerun-if-changed=csrc/producev.c");
    println!("cargo:rerun-if-changed=include/librdkafka/rdkafka.h");
    cc::Build::new()
        .file("csrc/producev.c")
        .include("include/librdkafka")
        .warnings(true)
        // Nothing in Rust calls the shim: keep all of it in the library.
        .link_lib_modifier("+whole-archive")
        .compile("kprod_producev");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // Programs linked against librdkafka record DT_NEEDED librdkafka.so.1: ours answers to it.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librdkafka.so.1");
        // rustc's version script exports the Rust symbols only: export the C shim's too.
        let map = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("csrc/exports.map");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", map.display());
        println!("cargo:rerun-if-changed=csrc/exports.map");
    }
}
