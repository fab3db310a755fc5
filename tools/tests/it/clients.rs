//! Real Binance clients against `autobot simexchange` (issue 35): ccxt's
//! `binanceusdm` and Binance's official `binance-futures-connector`, pinned,
//! in a virtual environment this test makes on first use, run by
//! `tools/tests/clients/conformance.py` against the simulator binary on
//! loopback with a keys file of two accounts. Each case checks the values
//! the client gets (docs/simexchange.md lists what is covered).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use autobot_test_support::Scratch;

use crate::common::{autobot, python_with, start_simexchange, text};

/// The client versions the suite is pinned to.
const CLIENTS: [&str; 2] = ["ccxt==4.5.90", "binance-futures-connector==4.2.0"];

/// The simulator's ping interval for the suite (Binance: 180 s), so the
/// keep-alive cases span several intervals in seconds.
const PING_SECS: &str = "1";

const KEYS: &str = r#"
[[accounts]]
api_key = "alice"
api_secret = "alice-secret"
balance = "25000"
leverage = 10

[[accounts]]
api_key = "bob"
api_secret = "bob-secret"

# An Ed25519 key pair made for this test alone (the client signs with the
# private key; the simulator verifies with the public one it derives).
[[accounts]]
api_key = "carol"
api_secret = """
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINWF1O3HA6Cd0lYgQGdcz8rroPeKGVi2WYs/c8Nsjt59
-----END PRIVATE KEY-----
"""
balance = "5000"
"#;

#[test]
fn ccxt_and_the_official_connector_trade_against_the_simulator() {
    let python = python_with(&CLIENTS);
    let dir = Scratch::new("clients");
    let keys = dir.join("keys.toml");
    std::fs::write(&keys, KEYS).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut simexchange = autobot();
    simexchange
        .current_dir(&root)
        .args(["simexchange", "-c", "config/paper.toml", "--keys"])
        .arg(&keys)
        .args(["--ws", "127.0.0.1:0", "--rest", "127.0.0.1:0"])
        .args(["--ping-secs", PING_SECS])
        .env_remove("AUTOBOT_API_KEY")
        .env_remove("AUTOBOT_API_SECRET");
    let sim = start_simexchange(simexchange);
    let (ws, rest, said) = (&sim.ws, &sim.rest, &sim.said);
    assert!(said.contains("3 account(s)"), "{said}");
    let script = root.join("tools/tests/clients/conformance.py");
    let out = Command::new(&python)
        .arg(&script)
        .args([rest, ws, PING_SECS])
        .output()
        .unwrap();
    let report = text(&out);
    println!("{report}");
    assert!(out.status.success(), "client conformance failed:\n{report}");
    assert!(report.contains("all cases passed"), "{report}");
}
