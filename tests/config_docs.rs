//! `docs/configuration.md` must equal what `kprod::config::configuration_markdown()` generates, so the
//! reference cannot drift from the property table. `KPROD_BLESS=1` rewrites the file instead.

use std::path::Path;

#[test]
fn configuration_md_is_generated() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md");
    let generated = kprod::config::configuration_markdown();
    if std::env::var_os("KPROD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/configuration.md is out of date with src/config.rs; regenerate it with \
         `KPROD_BLESS=1 cargo test --test config_docs`"
    );
}
