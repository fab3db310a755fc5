//! The operator's dashboard in a real headless Chromium (Debian's package,
//! installed by `browser/setup.sh` when missing), driven by Playwright
//! (`browser/dashboard.mjs`) against a real paper run in semi-auto mode:
//! log in (and be refused with a wrong token), watch the sequence and the
//! equity update live, approve a waiting order and see it fill, flatten
//! the position, press kill and see the state change and the open orders
//! cancelled, see a refused mode change shown as refused, and be refused a
//! state-changing request without the CSRF token. Screenshots of each page
//! are kept in `target/tmp/dashboard/`. The run also notifies a webhook on
//! a local receiver: the run's start, the order waiting for approval (with
//! the dashboard's link), the kill switch and the run's stop arrive, and
//! neither the webhook's secret URL nor the token is in the run's output.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use autobot_test_support::Scratch;

fn browser_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
}

#[test]
fn an_operator_drives_the_dashboard_in_a_real_browser() {
    let setup = Command::new("sh")
        .arg(browser_dir().join("setup.sh"))
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "the browser test's setup failed: {}",
        crate::common::text(&setup)
    );

    let dir = Scratch::new("dashboard");
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/paper.toml"))
            .unwrap();
    // Approvals expire after 30 s of *event* time: the shipped market runs
    // far faster than the wall clock, so it is slowed to about real time
    // here, as an operator approving by hand would need.
    let semi = shipped
        .replace("mode = \"full-auto\"", "mode = \"semi-auto\"")
        .replace("events_per_sec = 20000", "events_per_sec = 400")
        // Small segments: nothing to pre-allocate on a loaded machine.
        .replace("segment_mib = 256", "segment_mib = 4");
    let semi = semi.replace("webhook = \"\" ", "webhook = \"json\" ");
    assert!(
        semi.contains("webhook = \"json\""),
        "the paper config has a [notify] webhook key"
    );
    let cfg = dir.join("semi.toml");
    std::fs::write(&cfg, semi).unwrap();
    let runs = dir.join("runs");
    let token = autobot_gateways::os::random_hex(24).unwrap();
    let hook = autobot_test_support::receiver::Receiver::start(&[]);
    let hook_url = format!("http://{}/hook/secret-{}", hook.addr(), &token[..8]);
    let log = dir.join("run.log");
    let child = crate::common::autobot()
        .args(["run", "--duration", "900", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(&runs)
        .env("AUTOBOT_CONTROL_TOKEN", &token)
        .env("AUTOBOT_NOTIFY_WEBHOOK", &hook_url)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut run = crate::common::RunGuard(Some(child));
    let deadline = Instant::now() + Duration::from_secs(120);
    let addr = loop {
        let found = runs
            .is_dir()
            .then(|| crate::common::run_dirs(&runs))
            .and_then(|d| {
                d.into_iter()
                .find_map(|r| std::fs::read_to_string(r.join("control.addr")).ok())
                // Whole once its line ends.
                .filter(|a| a.ends_with('\n'))
            });
        if let Some(a) = found {
            break a.trim().to_string();
        }
        let log = || std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(status) = run.0.as_mut().and_then(|c| c.try_wait().unwrap()) {
            panic!(
                "autobot run ended {status} before its endpoint was up:\n{}",
                log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no control.addr after 120 s:\n{}",
            log()
        );
        std::thread::yield_now();
    };

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let drive = Command::new("node")
        .arg(browser_dir().join("dashboard.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&token)
        .arg(&shots)
        .current_dir(browser_dir())
        .output()
        .unwrap();
    let mut child = run.take();
    // Ctrl-C: the run stops early and cleanly.
    crate::common::interrupt(&child);
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        drive.status.success(),
        "the browser steps failed:\n{}\n--- autobot run ---\n{stderr}",
        crate::common::text(&drive)
    );
    assert!(status.success(), "autobot run ended {status}: {stderr}");
    assert!(
        !stderr.contains(&token),
        "the token appeared in the run's output"
    );
    assert!(
        !stderr.contains(&hook_url),
        "the webhook's URL appeared in the run's output"
    );
    let kinds: Vec<String> = hook
        .received()
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            format!(
                "{} {}",
                v["kind"].as_str().unwrap_or("?"),
                v["text"].as_str().unwrap_or("?")
            )
        })
        .collect();
    for (kind, words) in [
        ("run", "run started"),
        ("approval", "waits for approval"),
        ("approval", "/#approvals"),
        ("kill_switch", "kill switch engaged"),
        ("run", "run stopped"),
    ] {
        assert!(
            kinds
                .iter()
                .any(|k| k.starts_with(kind) && k.contains(words)),
            "no {kind} message with {words:?} among {kinds:#?}"
        );
    }
    for page in [
        "login-refused",
        "overview",
        "approvals",
        "orders",
        "decisions",
        "positions",
        "controls",
        "latency",
    ] {
        assert!(
            shots.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }
}

/// One HTTP/1.1 request over a fresh connection: status, head, body.
fn http(addr: &str, request: &str) -> (u16, String, String) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// `autobot dashboard RUN_DIR` shows a finished run where it ended (the
/// board from a replay of its journal: the same digest as its summary),
/// with its equity history, behind the same login, and refuses commands.
#[test]
fn a_finished_run_is_shown_read_only() {
    let dir = Scratch::new("dashboard-finished");
    let run_dir = crate::common::finished_run(&dir);
    let summary = std::fs::read_to_string(run_dir.join("summary.txt")).unwrap();
    let digest = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("output digest"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();

    let token = "finished-run-token";
    let child = crate::common::autobot()
        .arg("dashboard")
        .arg(&run_dir)
        .env("AUTOBOT_CONTROL_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = crate::common::RunGuard(Some(child));
    let addr = crate::common::addr_in(&run_dir.join("dashboard.addr"), &mut guard);
    let (status, _, _) = http(&addr, "GET /status HTTP/1.1\r\n\r\n");
    assert_eq!(status, 401, "the same login as a live run");
    let form = format!("token={token}");
    let (status, head, _) = http(
        &addr,
        &format!(
            "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let (_, _, page) = http(
        &addr,
        &format!("GET / HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"),
    );
    assert!(page.contains(r#"<meta name="read-only" content="true">"#));
    let csrf = page
        .split(r#"<meta name="csrf" content=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let (_, _, body) = http(
        &addr,
        &format!("GET /status HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"),
    );
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["digest"], digest.as_str(), "where the run ended");
    assert_eq!(status["state"], "Stopped");
    let (_, _, body) = http(
        &addr,
        &format!("GET /history HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"),
    );
    let history: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert!(history.len() > 1, "an equity history from the replay");
    assert!(history.iter().all(|s| s["t"].as_u64().unwrap() > 0));
    // The History view pages through the run's store: every fill once,
    // newest first, three at a time.
    let want: u64 = crate::common::ok(
        &Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM fills').fetchone()[0])",
            ])
            .arg(run_dir.join("store.sqlite"))
            .output()
            .unwrap(),
    )
    .trim()
    .parse()
    .unwrap();
    assert!(want > 3, "{want} fills");
    let mut seqs = Vec::new();
    let mut before = String::new();
    loop {
        let (status, _, body) = http(
            &addr,
            &format!("GET /store?table=fills&limit=3{before} HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"),
        );
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["complete"], true, "{page}");
        let at = page["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c == "seq")
            .unwrap();
        seqs.extend(
            page["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[at].as_i64().unwrap()),
        );
        match page["next"].as_i64() {
            Some(n) => before = format!("&before={n}"),
            None => break,
        }
    }
    assert_eq!(seqs.len() as u64, want, "{seqs:?}");
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let (status, _, body) = http(
        &addr,
        &format!("GET /store?table=users HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a history table"), "{body}");
    let (status, _, body) = http(
        &addr,
        &format!("POST /kill HTTP/1.1\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n\r\n"),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "{body}");

    let child = guard.take();
    crate::common::interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        !run_dir.join("dashboard.addr").exists(),
        "its files are removed"
    );
}
