//! The operator endpoint off loopback, end to end: refused without TLS
//! (the config names `listen` and what is allowed), served over HTTPS with
//! `[operator] tls_cert` and `tls_key`: `autobot ctl` reaches it through the
//! certificate the run leaves in its directory, the dashboard's session
//! cookie is `Secure`, a request in the clear gets no answer, and the
//! run's files are gone when it stops.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use autobot_test_support::Scratch;
use autobot_tools::config::AppConfig;

use crate::common::{config, ctl, start_run, text};

/// `cfg` with `[operator]` listening on every address, with `tls` lines.
fn off_loopback(cfg: &Path, tls: &str) {
    let shipped = std::fs::read_to_string(cfg).unwrap();
    let at = shipped.find("\n[operator]").unwrap();
    let (before, section) = shipped.split_at(at);
    let changed = before.to_string()
        + &section.replacen(
            "listen = \"127.0.0.1:0\"    # loopback;",
            &format!("listen = \"0.0.0.0:0\"\n{tls}\n#"),
            1,
        );
    assert_ne!(changed, shipped);
    std::fs::write(cfg, changed).unwrap();
}

/// One request over TLS trusting `cert` (checked by name: `localhost`).
fn https(addr: SocketAddr, cert: &[u8], request: &str) -> String {
    autobot_test_support::tls::request(addr.port(), cert, request)
}

#[test]
fn off_loopback_the_endpoint_is_refused_without_tls() {
    let scratch = Scratch::new("op-plain");
    let cfg = config(scratch.path());
    off_loopback(&cfg, "");
    let e = AppConfig::load(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("operator.listen") && e.contains("0.0.0.0:0") && e.contains("tls_cert"),
        "{e}"
    );

    // One of the pair is not enough.
    let cfg = config(scratch.path());
    off_loopback(&cfg, "tls_cert = \"/etc/ssl/certs/x.pem\"");
    let e = AppConfig::load(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("operator.tls_key") && e.contains("needs both"),
        "{e}"
    );
}

#[test]
fn off_loopback_the_endpoint_serves_https_and_ctl_reaches_it() {
    let scratch = Scratch::new("op-tls");
    let base = scratch.path();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (base.join("control.crt"), base.join("control.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = config(base);
    off_loopback(
        &cfg,
        &format!(
            "tls_cert = {:?}\ntls_key = {:?}",
            cert.display().to_string(),
            key.display().to_string()
        ),
    );

    let (child, run) = start_run(&["--duration", "600"], &cfg, base);
    let child = crate::common::RunGuard(Some(child));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.join("control.cert").exists() || !run.join("control.token").exists() {
        assert!(Instant::now() < deadline, "no HTTPS endpoint after 60 s");
        std::thread::yield_now();
    }
    let addr: SocketAddr = std::fs::read_to_string(run.join("control.addr"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(addr.ip().is_unspecified(), "{addr}");

    // ctl pins the run's certificate.
    let status = ctl(&run, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    assert!(text(&status).contains("BTCUSDT"), "{}", text(&status));
    let kill = ctl(&run, &["kill"]);
    assert!(
        text(&kill).contains("kill switch       true"),
        "{}",
        text(&kill)
    );

    // The dashboard's login over HTTPS: the cookie never travels in the
    // clear.
    let token = std::fs::read_to_string(run.join("control.token")).unwrap();
    let form = format!("token={}", token.trim());
    let login = https(
        addr,
        made.cert.der(),
        &format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: "))
        .unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap();
    let page = https(
        addr,
        made.cert.der(),
        &format!("GET / HTTP/1.1\r\nHost: localhost\r\nCookie: {session}\r\n\r\n"),
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");

    // In the clear: no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", addr.port())).unwrap();
    plain
        .write_all(b"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&got)
    );

    let mut child = child.take();
    crate::common::interrupt(&child);
    let exit = child.wait().unwrap();
    assert!(exit.success(), "autobot run failed: {exit:?}");
    for f in ["control.addr", "control.token", "control.cert"] {
        assert!(!run.join(f).exists(), "{f} outlives the run");
    }
}
