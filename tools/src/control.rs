//! Operator control, both ends: the run's side (start the endpoint, leave
//! its address and token in the run directory, stop it before shutdown)
//! and `autobot ctl` (find a running run, send one command, print the
//! answer).
//!
//! # Files
//! While a run's endpoint is up, `<run>/control.addr` holds its address and,
//! unless the token came from `AUTOBOT_CONTROL_TOKEN`, `<run>/control.token`
//! holds a fresh random token readable by its owner only, and under HTTPS
//! `<run>/control.cert` holds the certificate `ctl` pins
//! ([`crate::control_tls`]). All are removed when the run stops, so a
//! stale run is told apart from a live one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use autobot_engine::runtime::{InputPublisher, StatusBoard};
use autobot_gateways::control::{
    ControlConfig, ControlServer, DashboardInfo, KillSignal, OperatorInbox, Probe,
};
use autobot_gateways::credentials::Hidden;

use crate::config::AppConfig;
use crate::stage::{RunError, random_hex};

/// Environment variable with the operator's token (else a fresh one per run).
pub const ENV_TOKEN: &str = "AUTOBOT_CONTROL_TOKEN";
/// File in the run directory with the endpoint's address.
pub const ADDR_FILE: &str = "control.addr";
/// File in the run directory with the run's generated token.
pub const TOKEN_FILE: &str = "control.token";

/// What the endpoint did during the run.
#[derive(Clone, Debug)]
pub struct ControlOutcome {
    /// Where it listened.
    pub addr: SocketAddr,
    /// Requests answered.
    pub requests: u64,
    /// Commands published.
    pub commands: u64,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: u64,
    /// Requests refused as malformed, too large or too slow.
    pub bad_requests: u64,
    /// Kill switches engaged by SIGUSR1.
    pub signal_kills: u64,
}

/// The operator's ways into a run: the endpoint (when `[operator] listen`
/// is set) and SIGUSR1, both through one inbox.
pub struct OperatorSide {
    inbox: OperatorInbox,
    server: Option<ControlServer>,
    signal: Option<KillSignal>,
    files: Vec<PathBuf>,
}

pub(crate) fn write_owner_only(path: &Path, text: &str) -> Result<(), RunError> {
    let fail = |source| RunError::RunDir {
        path: path.to_path_buf(),
        source,
    };
    // A resumed run's old file may exist with other permissions.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
        _ => {}
    }
    crate::os::write_owner_only(path, text).map_err(fail)
}

impl OperatorSide {
    /// Opens the operator's inbox over `publisher`, watches SIGUSR1 and
    /// starts the endpoint if `[operator] listen` is set. `operator_base`:
    /// operator inputs the core will have processed before the first
    /// command (the restored count plus the run's `Start`).
    pub fn start(
        cfg: &AppConfig,
        run_dir: &Path,
        publisher: InputPublisher,
        board: Arc<StatusBoard>,
        operator_base: u64,
        (latency, records, fills): (
            Option<crate::latency::collector::Latest>,
            Option<autobot_engine::runtime::notices::Notices>,
            Option<autobot_engine::runtime::notices::Fills>,
        ),
    ) -> Result<OperatorSide, RunError> {
        let inbox = OperatorInbox::new(publisher, operator_base);
        let signal = match KillSignal::watch(inbox.clone()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("autobot: warning: SIGUSR1 (kill switch) not watched: {e}");
                None
            }
        };
        let mut side = OperatorSide {
            inbox,
            server: None,
            signal,
            files: Vec::new(),
        };
        let Some(listen) = cfg.operator.addr() else {
            return Ok(side);
        };
        let (token, written) = endpoint_token(&run_dir.join(TOKEN_FILE))?;
        side.files.extend(written);
        let server = ControlServer::start(
            ControlConfig {
                latency: latency.map(latency_probe),
                ..endpoint_config(cfg, listen, token, run_dir)?
            },
            Some(side.inbox.clone()),
            board,
            (records, fills),
        )?;
        side.files
            .extend(endpoint_files(cfg, run_dir, server.addr())?);
        let url = endpoint_url(cfg, server.addr());
        eprintln!(
            "autobot: operator control on {url} (autobot ctl --run {} status; kill -USR1 {} engages the kill switch)",
            run_dir.display(),
            std::process::id()
        );
        eprintln!(
            "autobot: dashboard on {url}/ (log in with the token in {}; docs/operator.md)",
            if std::env::var(ENV_TOKEN).is_ok_and(|t| !t.trim().is_empty()) {
                ENV_TOKEN.to_string()
            } else {
                run_dir.join(TOKEN_FILE).display().to_string()
            }
        );
        side.server = Some(server);
        Ok(side)
    }

    /// The endpoint's address, when it is on.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(ControlServer::addr)
    }

    /// Stops the endpoint and the signal watch, lets go of the input ring
    /// (the run journals `Shutdown` after this) and removes the endpoint's
    /// files.
    pub fn finish(self) -> Option<ControlOutcome> {
        let stats = self.server.map(|s| (s.addr(), s.stop()));
        let signal_kills = self.signal.map_or(0, KillSignal::stop);
        self.inbox.close();
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        stats.map(|(addr, stats)| ControlOutcome {
            addr,
            requests: n(&stats.requests),
            commands: n(&stats.commands),
            unauthorized: n(&stats.unauthorized),
            bad_requests: n(&stats.bad_requests),
            signal_kills,
        })
    }
}

/// Why `autobot ctl` could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// No run with a live endpoint was found.
    #[error(
        "no running autobot found under {0} (a run's directory holds control.addr while it runs); \
         give --run RUN_DIR or --addr HOST:PORT"
    )]
    NoRun(PathBuf),
    /// The run directory has no endpoint.
    #[error("{0} has no control.addr: the run is not running, or its [operator] listen is \"\"")]
    NotRunning(PathBuf),
    /// A file could not be read or is malformed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No token available.
    #[error("no token: set {ENV_TOKEN} or give --run RUN_DIR (its control.token)")]
    NoToken,
    /// The endpoint could not be reached.
    #[error("cannot reach the control endpoint at {addr}: {reason} (is the run still going?)")]
    Unreachable {
        /// Where.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The endpoint answered with an error.
    #[error("the run refused the request (HTTP {status}): {msg}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its message.
        msg: String,
    },
}

/// Where to send commands, and with what token.
#[derive(Debug)]
pub struct Target {
    /// The endpoint.
    pub addr: SocketAddr,
    token: Hidden,
    /// The certificate an HTTPS endpoint must present (its run's
    /// `control.cert`); `None`: plain HTTP.
    cert: Option<rustls_pki_types::CertificateDer<'static>>,
}

fn read_file(path: &Path) -> Result<String, CtlError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| CtlError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// The newest run directory under `base` whose endpoint is up.
pub fn newest_running(base: &Path) -> Result<PathBuf, CtlError> {
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(base)
        .map_err(|_| CtlError::NoRun(base.to_path_buf()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let m = std::fs::metadata(p.join(ADDR_FILE)).ok()?;
            Some((m.modified().ok()?, p))
        })
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|(_, p)| p)
        .ok_or_else(|| CtlError::NoRun(base.to_path_buf()))
}

impl Target {
    /// The endpoint of `run` (or `addr`), with the token from
    /// `AUTOBOT_CONTROL_TOKEN` or the run's `control.token`.
    pub fn find(run: Option<&Path>, addr: Option<SocketAddr>) -> Result<Target, CtlError> {
        let addr = match (addr, run) {
            (Some(a), _) => a,
            (None, Some(dir)) => {
                let path = dir.join(ADDR_FILE);
                if !path.exists() {
                    return Err(CtlError::NotRunning(dir.to_path_buf()));
                }
                let text = read_file(&path)?;
                text.parse().map_err(|_| CtlError::File {
                    path,
                    reason: format!("{text:?} is not an address"),
                })?
            }
            (None, None) => return Err(CtlError::NoRun(PathBuf::from("."))),
        };
        let token = match std::env::var(ENV_TOKEN) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                let path = run.ok_or(CtlError::NoToken)?.join(TOKEN_FILE);
                if !path.exists() {
                    return Err(CtlError::NoToken);
                }
                // Refuse a token file others could have read or written.
                let mode = crate::os::permission_bits(&path).map_err(|e| CtlError::File {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                if mode & 0o077 != 0 {
                    return Err(CtlError::File {
                        path,
                        reason: format!(
                            "permissions {:o} let others read it; it must be 0600",
                            mode & 0o777
                        ),
                    });
                }
                read_file(&path)?
            }
        };
        let cert = match run.map(|d| d.join(crate::control_tls::CERT_FILE)) {
            Some(path) if path.exists() => Some(
                crate::control_tls::read_cert(&path)
                    .map_err(|reason| CtlError::File { path, reason })?,
            ),
            _ => None,
        };
        Ok(Target {
            addr,
            token: Hidden::new(token),
            cert,
        })
    }

    /// Sends one request (`GET /status` or `POST` a command) and returns
    /// the JSON answer; HTTP 202 (not processed in time) is an answer too.
    pub fn request(&self, post: bool, path_and_query: &str) -> Result<serde_json::Value, CtlError> {
        let (status, body) = self.exchange(post, path_and_query)?;
        let value: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| CtlError::Refused {
                status,
                msg: format!("not JSON: {}", body.chars().take(200).collect::<String>()),
            })?;
        if status >= 400 {
            let msg = value["error"].as_str().unwrap_or("no message").to_string();
            return Err(CtlError::Refused { status, msg });
        }
        Ok(value)
    }

    /// Sends the request, over HTTPS when the run serves it: the status and
    /// the body.
    fn exchange(&self, post: bool, path_and_query: &str) -> Result<(u16, String), CtlError> {
        let auth = format!("Bearer {}", self.token.expose());
        if let Some(cert) = &self.cert {
            let method = if post { "POST" } else { "GET" };
            return crate::control_tls::request(self.addr, cert, (method, path_and_query), &auth)
                .map_err(|reason| CtlError::Unreachable {
                    addr: self.addr,
                    reason,
                });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("http://{}{path_and_query}", self.addr);
        let sent = if post {
            agent.post(&url).header("Authorization", &auth).send_empty()
        } else {
            agent.get(&url).header("Authorization", &auth).call()
        };
        let unreachable = |e: ureq::Error| CtlError::Unreachable {
            addr: self.addr,
            reason: e.to_string(),
        };
        let mut resp = sent.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().map_err(unreachable)?;
        Ok((status, body))
    }
}

fn s(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A status answer for people.
pub fn render_status(v: &serde_json::Value) -> String {
    let mut out = String::new();
    let line = |out: &mut String, k: &str, val: String| {
        out.push_str(&format!("{k:<18}{val}\n"));
    };
    line(&mut out, "state", s(&v["state"]));
    line(&mut out, "mode", s(&v["mode"]));
    line(&mut out, "kill switch", s(&v["kill_switch"]));
    line(&mut out, "last input", s(&v["last_seq"]));
    line(&mut out, "inputs", s(&v["events"]));
    line(&mut out, "equity", s(&v["account"]["equity"]));
    line(&mut out, "balance", s(&v["account"]["balance"]));
    line(&mut out, "realized PnL", s(&v["account"]["realized"]));
    line(&mut out, "unrealized PnL", s(&v["account"]["unrealized"]));
    line(&mut out, "fees", s(&v["account"]["fees"]));
    line(&mut out, "daily PnL", s(&v["account"]["daily_pnl"]));
    line(&mut out, "drawdown", s(&v["account"]["drawdown"]));
    let overrides: Vec<&str> = [
        (
            "day_loss_override",
            "today's daily-loss halt lifted by the operator",
        ),
        ("drawdown_override", "drawdown halt lifted by the operator"),
    ]
    .iter()
    .filter(|(k, _)| v["account"][k].as_bool() == Some(true))
    .map(|(_, text)| *text)
    .collect();
    if !overrides.is_empty() {
        line(&mut out, "overrides", overrides.join("; "));
    }
    line(
        &mut out,
        "orders",
        format!(
            "{} sent, {} fills, {} rejected, {} vetoed, {} open",
            s(&v["orders"]),
            s(&v["fills"]),
            s(&v["rejects"]),
            s(&v["vetoes"]),
            s(&v["open_orders"])
        ),
    );
    line(&mut out, "alerts", s(&v["alerts"]));
    let names: Vec<String> = v["symbol_names"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    let name = |i: &serde_json::Value| {
        i.as_u64()
            .and_then(|i| names.get(i as usize).cloned())
            .unwrap_or_else(|| s(i))
    };
    out.push_str("positions\n");
    for (i, row) in v["symbols"].as_array().into_iter().flatten().enumerate() {
        out.push_str(&format!(
            "  {:<10} {:>12}  entry {:>12}  mark {:>12}  unrealized {:>10}  realized {:>10}\n",
            names.get(i).cloned().unwrap_or_else(|| format!("#{i}")),
            s(&row["position"]),
            s(&row["entry"]),
            s(&row["mark"]),
            s(&row["unrealized"]),
            s(&row["realized"]),
        ));
    }
    let pending = v["pending"].as_array().cloned().unwrap_or_default();
    if pending.is_empty() {
        out.push_str("pending approvals: none\n");
    } else {
        out.push_str("pending approvals (autobot ctl approve|reject ID)\n");
        for p in &pending {
            out.push_str(&format!(
                "  id {:<8} {} {} {}\n",
                s(&p["id"]),
                name(&p["symbol"]),
                s(&p["side"]),
                s(&p["qty"])
            ));
        }
    }
    out
}

/// One `autobot ctl` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtlCommand {
    /// Print the status.
    Status,
    /// Engage the kill switch (`flatten`: and close every position).
    Kill {
        /// Also close every position.
        flatten: bool,
    },
    /// Release the kill switch and the breakers that wait for an operator,
    /// optionally overriding a daily-loss or drawdown halt.
    Reset {
        /// Lift today's daily-loss halt.
        override_day_loss: bool,
        /// Lift a drawdown halt still at the limit.
        override_drawdown: bool,
    },
    /// Change the control mode.
    Mode(String),
    /// Approve a pending order.
    Approve(u64),
    /// Decline a pending order.
    Reject(u64),
    /// Close one symbol's position (`None`: every symbol).
    Flatten(Option<String>),
    /// An operator order (a limit order when `price` is given).
    Order(OrderArgs),
    /// Disable (`false`) or enable a strategy instance by name.
    Strategy(String, bool),
}

/// An operator order as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderArgs {
    /// Symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Quantity (decimal).
    pub qty: String,
    /// Limit price (decimal); none: a market order.
    pub price: Option<String>,
    /// Rest only, never take.
    pub post_only: bool,
    /// Only reduce the position.
    pub reduce_only: bool,
}

impl CtlCommand {
    /// `(post, path and query)` of the request.
    pub fn request(&self) -> (bool, String) {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        match self {
            CtlCommand::Status => (false, "/status".into()),
            CtlCommand::Kill { flatten: false } => (true, "/kill".into()),
            CtlCommand::Kill { flatten: true } => (true, "/kill?flatten".into()),
            CtlCommand::Reset {
                override_day_loss,
                override_drawdown,
            } => {
                let overrides: Vec<&str> = [
                    (*override_day_loss, "day-loss"),
                    (*override_drawdown, "drawdown"),
                ]
                .iter()
                .filter_map(|&(on, name)| on.then_some(name))
                .collect();
                if overrides.is_empty() {
                    (true, "/reset".into())
                } else {
                    (true, format!("/reset?override={}", overrides.join(",")))
                }
            }
            CtlCommand::Mode(m) => (true, format!("/mode?to={}", enc(m))),
            CtlCommand::Approve(id) => (true, format!("/approve?id={id}")),
            CtlCommand::Reject(id) => (true, format!("/reject?id={id}")),
            CtlCommand::Flatten(Some(s)) => (true, format!("/flatten?symbol={}", enc(s))),
            CtlCommand::Flatten(None) => (true, "/flatten?all".into()),
            CtlCommand::Strategy(name, on) => {
                let to = if *on { "enable" } else { "disable" };
                (true, format!("/strategy?name={}&to={to}", enc(name)))
            }
            CtlCommand::Order(o) => {
                let mut q = format!(
                    "/order?symbol={}&side={}&qty={}",
                    enc(&o.symbol),
                    enc(&o.side),
                    enc(&o.qty)
                );
                if let Some(p) = &o.price {
                    q.push_str(&format!("&price={}", enc(p)));
                }
                if o.post_only {
                    q.push_str("&post_only");
                }
                if o.reduce_only {
                    q.push_str("&reduce_only");
                }
                (true, q)
            }
        }
    }
}

impl std::fmt::Display for CtlCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CtlCommand::Status => f.write_str("status"),
            CtlCommand::Kill { flatten } => {
                f.write_str(if *flatten { "kill --flatten" } else { "kill" })
            }
            CtlCommand::Reset {
                override_day_loss,
                override_drawdown,
            } => {
                f.write_str("reset")?;
                if *override_day_loss {
                    f.write_str(" --override-day-loss")?;
                }
                if *override_drawdown {
                    f.write_str(" --override-drawdown")?;
                }
                Ok(())
            }
            CtlCommand::Mode(m) => write!(f, "mode {m}"),
            CtlCommand::Approve(id) => write!(f, "approve {id}"),
            CtlCommand::Reject(id) => write!(f, "reject {id}"),
            CtlCommand::Flatten(Some(s)) => write!(f, "flatten {s}"),
            CtlCommand::Flatten(None) => f.write_str("flatten --all"),
            CtlCommand::Strategy(name, on) => {
                write!(
                    f,
                    "strategy {name} {}",
                    if *on { "enable" } else { "disable" }
                )
            }
            CtlCommand::Order(o) => {
                write!(f, "order {} {} {}", o.symbol, o.side, o.qty)?;
                match &o.price {
                    Some(p) => write!(f, " limit {p}"),
                    None => f.write_str(" market"),
                }
            }
        }
    }
}

/// What `autobot ctl` prints, and whether the command took effect.
#[derive(Debug)]
pub struct CtlAnswer {
    /// Text for the terminal.
    pub text: String,
    /// The core processed the command and did not refuse it (always true
    /// for `status`).
    pub ok: bool,
}

/// Sends `cmd` to `target` and renders the answer (`json`: the raw answer).
/// A command the core refused, or one whose orders the risk chain vetoed,
/// is not `ok` (the CLI exits non-zero), and the answer says why.
pub fn ctl(target: &Target, cmd: &CtlCommand, json: bool) -> Result<CtlAnswer, CtlError> {
    let (post, path) = cmd.request();
    let v = target.request(post, &path)?;
    let processed = v["processed"].as_bool().unwrap_or(!post);
    let refused = v["refused"].as_bool().unwrap_or(false);
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let (sent, vetoed, parked) = (n("orders_sent"), n("vetoed"), n("parked"));
    let reason = v["reason"].as_str().map(str::to_string);
    // An operator order that went nowhere did not take effect.
    let order_went = !matches!(cmd, CtlCommand::Order(_)) || sent + parked > 0;
    let ok = processed && !refused && vetoed == 0 && order_went;
    if json {
        return Ok(CtlAnswer {
            text: format!("{v:#}\n"),
            ok,
        });
    }
    if !post {
        return Ok(CtlAnswer {
            text: render_status(&v),
            ok,
        });
    }
    let what = cmd.to_string();
    let why = reason.map_or(String::new(), |r| format!("\n  why: {r}"));
    let head = if !processed {
        format!(
            "{what}: journaled, but the core had not processed it within 5 s (it is behind); \
             check with `autobot ctl status`\n"
        )
    } else if refused {
        format!("{what}: REFUSED by the core{why}\n")
    } else if sent + vetoed + parked > 0 || matches!(cmd, CtlCommand::Order(_)) {
        let mut parts = vec![format!("{sent} order(s) sent")];
        if vetoed > 0 {
            parts.push(format!("{vetoed} VETOED by the risk chain"));
        }
        if parked > 0 {
            parts.push(format!("{parked} waiting for approval"));
        }
        format!("{what}: {}{why}\n", parts.join(", "))
    } else if v["known"].as_bool() == Some(false) {
        format!("{what}: processed (another command followed at once; see `autobot ctl status`)\n")
    } else {
        format!("{what}: done\n")
    };
    let status = if processed {
        render_status(&v["status"])
    } else {
        String::new()
    };
    Ok(CtlAnswer {
        text: head + &status,
        ok,
    })
}

/// The endpoint's token: `AUTOBOT_CONTROL_TOKEN`, else a fresh random one
/// written owner-only to `path` (then also returned, for the caller to
/// remove when the endpoint stops).
pub(crate) fn endpoint_token(path: &Path) -> Result<(Hidden, Option<PathBuf>), RunError> {
    match std::env::var(ENV_TOKEN) {
        Ok(t) if !t.trim().is_empty() => Ok((Hidden::new(t.trim().to_string()), None)),
        _ => {
            let t = random_hex(32, "random source for the control token")?;
            write_owner_only(path, &t)?;
            Ok((Hidden::new(t), Some(path.to_path_buf())))
        }
    }
}

/// The endpoint's set-up for `cfg`'s run in `run_dir`, as a live run has
/// it (a finished run's dashboard changes what differs).
pub(crate) fn endpoint_config(
    cfg: &AppConfig,
    listen: SocketAddr,
    token: Hidden,
    run_dir: &Path,
) -> Result<ControlConfig, RunError> {
    Ok(ControlConfig {
        listen,
        tls: crate::control_tls::identity(cfg)?,
        token,
        symbols: cfg.instruments.iter().map(|i| i.symbol.clone()).collect(),
        strategies: cfg.strategy.names(),
        models: cfg.advisor.names(),
        answer_within: Duration::from_secs(5),
        dashboard: DashboardInfo {
            daily_loss_limit: cfg.risk.max_daily_loss.to_string(),
            max_drawdown: cfg.risk.max_drawdown.to_string(),
            run_dir: run_dir.display().to_string(),
            read_only: false,
            reports: Vec::new(),
        },
        latency: None,
        history: Vec::new(),
        store: crate::store::history_of(run_dir, &cfg.store.url, cfg.store.live),
    })
}

/// The endpoint's URL (`https` when `[operator]` configures TLS).
pub(crate) fn endpoint_url(cfg: &AppConfig, addr: SocketAddr) -> String {
    let scheme = if cfg.operator.tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{addr}")
}

/// Writes the files `ctl` finds a running endpoint by: `control.addr`
/// and, under HTTPS, `control.cert` (a copy of the certificate: public,
/// the key stays where it is). Returns them, for removal at the end.
pub(crate) fn endpoint_files(
    cfg: &AppConfig,
    run_dir: &Path,
    addr: SocketAddr,
) -> Result<Vec<PathBuf>, RunError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::RunDir { path, source }
    };
    let addr_path = run_dir.join(ADDR_FILE);
    crate::whole::write(&addr_path, format!("{addr}\n")).map_err(fail(&addr_path))?;
    let mut files = vec![addr_path];
    if let Some((cert, _)) = cfg.operator.tls_files() {
        let cert_path = run_dir.join(crate::control_tls::CERT_FILE);
        std::fs::copy(&cert, &cert_path).map_err(fail(&cert_path))?;
        files.push(cert_path);
    }
    Ok(files)
}

/// The latency collector's latest per-stage figures as the dashboard shows
/// them: count, p50, p99, p99.9 and max in nanoseconds.
fn latency_probe(latest: crate::latency::collector::Latest) -> Probe {
    Probe(Arc::new(move || {
        let stages = latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let rows: Vec<serde_json::Value> = stages
            .iter()
            .map(|s| {
                let q = |want: f64| {
                    s.quantiles
                        .iter()
                        .find(|(p, _)| (*p - want).abs() < 1e-9)
                        .map(|(_, ns)| *ns)
                };
                serde_json::json!({
                    "stage": s.stage.name(),
                    "count": s.count,
                    "p50_ns": q(0.5),
                    "p99_ns": q(0.99),
                    "p999_ns": q(0.999),
                    "max_ns": s.max_ns,
                })
            })
            .collect();
        serde_json::Value::Array(rows)
    }))
}
