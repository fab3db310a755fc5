//! `autobot simexchange --tls-cert/--tls-key` serves its streams as
//! `wss://` (real processes, real sockets), `autobot record --ca-file`
//! reads them trusting the CA that signed the certificate, and without the
//! CA file `record` stops naming the certificate it refused.

use autobot_test_support::Scratch;
use autobot_test_support::tls::Authority;

use crate::common::{autobot, start_simexchange, text};

#[test]
fn the_simulator_serves_wss_and_record_trusts_only_the_ca_file() {
    let dir = Scratch::new("simexchange-tls");
    let (ca, ca_file) = Authority::beside(dir.path());
    let (cert, key) = ca.server(dir.path(), "sim");

    // Half an identity is refused by the argument parser.
    let out = autobot()
        .args(["simexchange", "--tls-cert"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--tls-key"), "{}", text(&out));

    let mut simexchange = autobot();
    simexchange
        .args(["simexchange", "-c", "config/paper.toml"])
        .args(["--ws", "127.0.0.1:0", "--rest", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env_remove("AUTOBOT_API_KEY")
        .env_remove("AUTOBOT_API_SECRET")
        .env_remove("AUTOBOT_KEY_FILE");
    let sim = start_simexchange(simexchange);
    let (ws, rest, said) = (&sim.ws, &sim.rest, &sim.said);
    assert!(ws.starts_with("wss://127.0.0.1:"), "{said}");

    let record = |out: &std::path::Path, ca: Option<&std::path::Path>| {
        let mut c = autobot();
        c.args([
            "record",
            "--symbols",
            "BTCUSDT",
            "--streams",
            "bookTicker,aggTrade",
        ])
        .args([
            "--ws",
            ws,
            "--rest",
            rest,
            "--messages",
            "50",
            "--duration",
            "60",
        ])
        .arg("--out")
        .arg(out);
        if let Some(ca) = ca {
            c.arg("--ca-file").arg(ca);
        }
        c.output().unwrap()
    };
    let capture = dir.join("capture.txt");
    let got = record(&capture, Some(&ca_file));
    assert!(got.status.success(), "{}", text(&got));
    let lines = std::fs::read_to_string(&capture).unwrap();
    assert_eq!(lines.lines().count(), 50, "{}", text(&got));
    assert!(lines.lines().all(|l| l.contains(r#"{"stream":"btcusdt@"#)));

    // The public web roots do not vouch for the test's CA.
    let refused = record(&dir.join("refused.txt"), None);
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(
        said.contains("invalid peer certificate: UnknownIssuer"),
        "{said}"
    );
    assert!(!said.contains("panicked"), "{said}");
}
