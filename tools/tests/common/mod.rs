//! Helpers shared by the tests that drive the `autobot` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `autobot` binary, run from the repository root.
pub fn autobot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_autobot"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

/// `autobot ctl --run RUN ARGS…` with the run's token file (not the
/// environment's token).
pub fn ctl(run: &Path, args: &[&str]) -> std::process::Output {
    autobot()
        .arg("ctl")
        .arg("--run")
        .arg(run)
        .args(args)
        .env_remove("AUTOBOT_CONTROL_TOKEN")
        .output()
        .unwrap()
}

/// Ctrl-C to a child (`autobot run` and `dashboard` stop cleanly on it).
pub fn interrupt(child: &Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success(), "kill -INT {pid}");
}

/// A finished `autobot run --events 30000` of [`config`] under `base`: its
/// run directory.
pub fn finished_run(base: &Path) -> PathBuf {
    let cfg = config(base);
    let runs = base.join("runs");
    let o = autobot()
        .args(["run", "--events", "30000", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(&runs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    run_dirs(&runs).pop().unwrap()
}

/// A command's stdout, asserting it succeeded.
pub fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The seeded synthetic market of `rows` book tickers as data files in
/// `dir` (`autobot generate`).
pub fn generated(dir: &Path, rows: u32) -> Vec<PathBuf> {
    ok(&autobot()
        .args(["generate", "--rows", &rows.to_string(), "--out"])
        .arg(dir)
        .output()
        .unwrap());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// A command's stdout and stderr together.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The shipped paper config with small segments (many rolls, so kills land
/// on rolls too), frequent checkpoints and a fast market.
pub fn config(base: &Path) -> PathBuf {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/paper.toml"))
            .unwrap();
    let text = shipped
        .replace("segment_mib = 256", "segment_mib = 1")
        .replace("checkpoint_every = 100000", "checkpoint_every = 2000")
        .replace("events_per_sec = 20000", "events_per_sec = 100000")
        .replace("fast = 100 ", "fast = 10 ")
        .replace("slow = 1000 ", "slow = 50 ");
    assert_ne!(text, shipped);
    let path = base.join("fast.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn run_dirs(base: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect()
}

/// Polls until the run has created its first segment.
pub fn wait_for_journal(base: &Path, child: &mut std::process::Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(dir) = run_dirs(base).into_iter().next() {
            let j = dir.join("journal");
            if j.is_dir()
                && std::fs::read_dir(&j)
                    .unwrap()
                    .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "seg"))
            {
                return dir;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "autobot run exited early"
        );
        assert!(Instant::now() < deadline, "no journal after 60 s");
        std::thread::yield_now();
    }
}

/// Starts `autobot run` with `limit` (e.g. `["--events", "1000"]`), the
/// config at `cfg` and its run directory under `runs`, silenced; returns the
/// child and the run directory once the journal's first segment exists.
pub fn start_run(limit: &[&str], cfg: &Path, runs: &Path) -> (Child, PathBuf) {
    let mut child = autobot()
        .arg("run")
        .args(limit)
        .arg("--config")
        .arg(cfg)
        .arg("--run-dir")
        .arg(runs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run_dir = wait_for_journal(runs, &mut child);
    (child, run_dir)
}

/// `autobot replay --verify` of the run in `dir` reproduces every recorded
/// digest.
pub fn replays_to_the_same_digest(dir: &Path) {
    let args = autobot_tools::replay::ReplayArgs {
        dir: dir.to_path_buf(),
        verify: true,
        ..autobot_tools::replay::ReplayArgs::default()
    };
    let mut text = Vec::new();
    assert!(
        autobot_tools::replay::run(&args, &mut text).unwrap(),
        "{}",
        String::from_utf8_lossy(&text)
    );
}

/// An `autobot run` child killed when dropped, so a failing test does not
/// leave a long run behind it.
pub struct RunGuard(pub Option<Child>);

/// The address a child writes to `file` (a whole line), waiting for it
/// (yielding) while the child runs; panics if the child ends first.
pub fn addr_in(file: &Path, guard: &mut RunGuard) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(a) = std::fs::read_to_string(file)
            && a.ends_with('\n')
        {
            return a.trim().to_string();
        }
        if let Some(status) = guard.0.as_mut().and_then(|c| c.try_wait().unwrap()) {
            panic!("the child ended {status} before writing {}", file.display());
        }
        assert!(Instant::now() < deadline, "no {}", file.display());
        std::thread::yield_now();
    }
}

impl RunGuard {
    /// The child's pid.
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// Takes the child out (the caller stops it).
    pub fn take(mut self) -> Child {
        self.0.take().expect("a child")
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What a run leaves resting after shutdown: only the protective stops of
/// the positions it ended with, each for the whole position. Returns how
/// many.
pub fn only_guards_rest(core: &autobot_engine::core::Core) -> u64 {
    use autobot_engine::event::{OrderKind, Origin};
    let resting = core.open_order_list();
    for o in &resting {
        assert_eq!(
            (o.kind, o.origin),
            (OrderKind::StopMarket, Origin::Protect),
            "nothing but protective stops left in flight after shutdown: {o:?}"
        );
        let held = core.position(o.symbol).unwrap().qty();
        assert_eq!(o.qty, held.checked_abs().unwrap(), "{o:?} guards {held}");
    }
    resting.len() as u64
}

/// The refused placements among a run's journaled inputs: each must come
/// from the two stops racing to close one position (`protect = "both"`):
/// a protective stop the price had already passed when it arrived (-2021,
/// "would immediately trigger"), or a reduce-only order whose position the
/// other stop had closed first (-2022). Returns how many.
pub fn refusals_are_passed_stops(journal: &[autobot_engine::event::InputEvent]) -> u64 {
    use autobot_engine::event::{InputBody, Request};
    let mut n = 0;
    for e in journal {
        if let InputBody::OrderRejected(r) = e.body
            && r.request == Request::New
        {
            assert!(
                matches!(r.code, -2021 | -2022),
                "only a stop racing a stop is refused: {r:?}"
            );
            n += 1;
        }
    }
    n
}

/// A Python interpreter with `packages` (pinned `name==version`) installed:
/// a virtual environment under `target/test-python/`, made on first use so
/// a clean machine needs no setup. Tests of one process (`cargo test`'s
/// threads) take turns; several processes (nextest) may race, each
/// building in its own directory, and the first rename wins.
pub fn python_with(packages: &[&str]) -> PathBuf {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/test-python"
    ));
    let name: String = packages.join("+").replace(['=', '.'], "_");
    let venv = root.join(&name);
    let python = venv.join("bin/python");
    if python.exists() {
        return python;
    }
    std::fs::create_dir_all(root).unwrap();
    let building = root.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&building)
        .output()
        .expect("python3 is needed to check exports with an independent reader");
    assert!(made.status.success(), "python3 -m venv: {}", text(&made));
    let pip = Command::new(building.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check"])
        .args(packages)
        .output()
        .unwrap();
    assert!(
        pip.status.success(),
        "pip install {packages:?}: {}",
        text(&pip)
    );
    // A venv's scripts name their own directory; the rename keeps
    // `bin/python` (a symlink to the base interpreter) working, which is
    // all the tests run.
    if std::fs::rename(&building, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    assert!(python.exists(), "no interpreter at {}", python.display());
    python
}

/// A started `autobot simexchange` and the endpoints it named.
pub struct Simexchange {
    /// Kills the simulator when dropped.
    pub guard: RunGuard,
    /// The streams' base (`ws://…` or `wss://…`).
    pub ws: String,
    /// The REST base (`http://…`).
    pub rest: String,
    /// What it said on stderr until then.
    pub said: String,
}

/// Spawns `simexchange` (an `autobot simexchange …` command) and reads its
/// stderr until it names its endpoints, which it does once it listens;
/// panics with what it said if it ends first.
pub fn start_simexchange(mut simexchange: Command) -> Simexchange {
    use std::io::{BufRead as _, BufReader};
    let mut child = simexchange.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = RunGuard(Some(child));
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if let (Some(w), Some(r)) = (line.find("streams ws"), line.find("REST http://")) {
            let ws = line[w + "streams ".len()..]
                .split("/stream")
                .next()
                .unwrap();
            let rest = line[r + "REST ".len()..].split(';').next().unwrap();
            return Simexchange {
                guard,
                ws: ws.trim().to_string(),
                rest: rest.trim().to_string(),
                said,
            };
        }
    }
    panic!("the simulator did not start:\n{said}")
}
