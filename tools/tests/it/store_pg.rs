//! The trade store in PostgreSQL, against a real server this test starts
//! on loopback (`postgres/server.sh`, which installs Debian's postgresql
//! when missing): a run keeps its rows current there, they are the rows a
//! SQLite rebuild of the same journal holds (read back by `psql` and by
//! Python's sqlite3, both independent of autobot), a rebuild into the
//! server replaces them with the same rows, and a missing password, a
//! password in the URL and a newer schema are refused with a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use autobot_test_support::Scratch;

use crate::common::{autobot, ok, text};

const PASSWORD: &str = "store-test-secret";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/postgres/server.sh")
}

/// A running server; stopped when dropped.
struct Server {
    dir: PathBuf,
    port: u16,
    psql: PathBuf,
}

impl Server {
    fn start() -> Server {
        // Short and outside the repository: the socket path has a length
        // limit, and the server's user must reach it.
        let dir = std::env::temp_dir().join(format!("autobot-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pw"), PASSWORD).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let o = Command::new("sh")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "server.sh start: {}", text(&o));
        let bin = String::from_utf8_lossy(&o.stdout).trim().to_string();
        Server {
            dir,
            port,
            psql: Path::new(&bin).join("psql"),
        }
    }

    fn url(&self) -> String {
        format!("postgres://autobot@127.0.0.1:{}/postgres", self.port)
    }

    /// `psql -c SQL`'s output (unaligned, tuples only).
    fn psql(&self, sql: &str) -> String {
        let o = Command::new(&self.psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .arg("-c")
            .arg(sql)
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(o.status.success(), "psql {sql}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every table's rows of `run` from the server (`psql`, CSV) and from a
/// SQLite store, normalized (booleans as 0/1, doubles as floats) and
/// sorted; equal, or the first difference.
const COMPARE: &str = r#"
import csv, io, json, sqlite3, subprocess, sys
psql, url, run, db = sys.argv[1:5]
tables = ["fills", "orders", "cancels", "decisions", "state_changes", "equity", "round_trips"]
floats = {"entry", "exit", "gross", "fees", "pnl"}
bools = {"reduce_only", "post_only"}
lite = sqlite3.connect(db)
def norm(cols, row):
    out = []
    for c, v in zip(cols, row):
        if c in bools: v = {"t": 1, "f": 0}.get(v, v); v = int(v)
        elif c in floats: v = float(v)
        else: v = str(v)
        out.append(v)
    return out
report = {}
for t in tables:
    cols = [r[1] for r in lite.execute(f"PRAGMA table_info({t})")]
    a = sorted(norm(cols, r) for r in lite.execute(f"SELECT * FROM {t} WHERE run = ?", (run,)))
    sql = f"COPY (SELECT * FROM {t} WHERE run = '{run}') TO STDOUT WITH (FORMAT csv)"
    out = subprocess.run([psql, "-X", "-q", "-d", url, "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    b = sorted(norm(cols, r) for r in csv.reader(io.StringIO(out)))
    diff = next((f"{x} != {y}" for x, y in zip(a, b) if x != y), None)
    report[t] = {"sqlite": len(a), "postgres": len(b), "first_difference": diff}
print(json.dumps(report))
"#;

fn compare(s: &Server, run: &str, db: &Path) -> serde_json::Value {
    let o = Command::new("python3")
        .args(["-c", COMPARE])
        .arg(&s.psql)
        .arg(s.url())
        .arg(run)
        .arg(db)
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    serde_json::from_str(&ok(&o)).unwrap()
}

fn assert_same(report: &serde_json::Value) {
    for (t, r) in report.as_object().unwrap() {
        assert_eq!(r["sqlite"], r["postgres"], "{t}: {report}");
        assert!(r["first_difference"].is_null(), "{t}: {report}");
    }
    assert!(report["fills"]["sqlite"].as_u64().unwrap() > 0, "{report}");
    assert!(report["equity"]["sqlite"].as_u64().unwrap() > 0, "{report}");
}

/// The fills `autobot dashboard RUN` serves at `/store`, paged 5 at a time.
fn dashboard_fills(run: &Path) -> u64 {
    use std::io::{Read as _, Write as _};
    let token = "store-pg-dashboard";
    let child = autobot()
        .arg("dashboard")
        .arg(run)
        .env("AUTOBOT_CONTROL_TOKEN", token)
        .env("AUTOBOT_STORE_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = crate::common::RunGuard(Some(child));
    let addr = crate::common::addr_in(&run.join("dashboard.addr"), &mut guard);
    let mut n = 0;
    let mut before = String::new();
    loop {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET /store?table=fills&limit=5{before} HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        let page: serde_json::Value = serde_json::from_str(body).unwrap();
        n += page["rows"].as_array().unwrap().len() as u64;
        match page["next"].as_i64() {
            Some(k) => before = format!("&before={k}"),
            None => break,
        }
    }
    let child = guard.take();
    crate::common::interrupt(&child);
    assert!(child.wait_with_output().unwrap().status.success());
    n
}

#[test]
fn a_run_keeps_its_rows_in_postgres_as_a_rebuild_makes_them() {
    let server = Server::start();
    let d = Scratch::new("store-pg");
    let cfg = crate::common::config(d.path());
    let shipped = std::fs::read_to_string(&cfg).unwrap();
    let text_cfg = shipped.replacen(
        "url = \"\"                  # \"\" = <run>/store.sqlite;",
        &format!("url = \"{}\" #", server.url()),
        1,
    );
    assert_ne!(text_cfg, shipped, "the paper config has a [store] url key");
    std::fs::write(&cfg, text_cfg).unwrap();
    let runs = d.join("runs");
    let o = autobot()
        .args(["run", "--events", "30000", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(&runs)
        .env("AUTOBOT_STORE_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let said = ok(&o);
    assert!(
        said.contains(&format!("trade store       {}", server.url())),
        "{said}"
    );
    assert!(!text(&o).contains(PASSWORD), "the password was printed");
    let run = crate::common::run_dirs(&runs).pop().unwrap();
    let name = run.file_name().unwrap().to_str().unwrap().to_string();
    assert!(!run.join("store.sqlite").exists());
    assert_eq!(
        server
            .psql(&format!(
                "SELECT live, complete FROM runs WHERE run = '{name}'"
            ))
            .trim(),
        "t|t"
    );

    // The live rows are the rows a rebuild of the journal makes.
    let lite = d.join("rebuilt.sqlite");
    ok(&autobot()
        .args(["store", "rebuild", "--out"])
        .arg(&lite)
        .arg(&run)
        .output()
        .unwrap());
    assert_same(&compare(&server, &name, &lite));

    // The finished run's dashboard reads its History view from the server.
    let fills = dashboard_fills(&run);
    assert_eq!(
        fills,
        compare(&server, &name, &lite)["fills"]["postgres"]
            .as_u64()
            .unwrap()
    );

    // A rebuild into the server replaces them with the same rows.
    let said = ok(&autobot()
        .args(["store", "rebuild"])
        .arg(&run)
        .env("AUTOBOT_STORE_PASSWORD", PASSWORD)
        .output()
        .unwrap());
    assert!(said.contains(&server.url()), "{said}");
    assert_same(&compare(&server, &name, &lite));
    assert_eq!(
        server
            .psql(&format!(
                "SELECT live, complete FROM runs WHERE run = '{name}'"
            ))
            .trim(),
        "f|t"
    );

    // Refusals: no password, a password in the URL, a newer schema.
    let o = autobot()
        .args(["store", "rebuild"])
        .arg(&run)
        .env_remove("AUTOBOT_STORE_PASSWORD")
        .output()
        .unwrap();
    let e = text(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains(&format!("connecting to the store {}", server.url())),
        "{e}"
    );
    let with_pw = format!(
        "postgres://autobot:{PASSWORD}@127.0.0.1:{}/postgres",
        server.port
    );
    let o = autobot()
        .args(["store", "rebuild", "--url", &with_pw])
        .arg(&run)
        .output()
        .unwrap();
    let e = text(&o);
    assert!(
        !o.status.success() && e.contains("AUTOBOT_STORE_PASSWORD"),
        "{e}"
    );
    assert!(!e.contains(PASSWORD), "{e}");
    server.psql("UPDATE autobot_schema SET version = 99");
    let o = autobot()
        .args(["store", "rebuild"])
        .arg(&run)
        .env("AUTOBOT_STORE_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let e = text(&o);
    assert!(
        e.contains("schema version 99, newer than this build's 2"),
        "{e}"
    );
}
