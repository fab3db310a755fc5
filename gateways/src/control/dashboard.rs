//! The operator's web dashboard on the control endpoint: the login that
//! turns the operator's token into a session cookie, the pages and their
//! assets (embedded in the binary: no CDN, works offline), the live event
//! stream and the equity history it draws.
//!
//! # Security
//! - The token is sent once, in a POST form body, never in a URL, and
//!   never logged. A good one opens a session: a random 256-bit id in an
//!   `HttpOnly; SameSite=Strict` cookie (not readable by script, not sent
//!   by other sites' requests), expiring after [`SESSION_TTL`]; at most
//!   [`MAX_SESSIONS`] are held, the oldest giving way.
//! - A state-changing request authenticated by the cookie must also carry
//!   the session's CSRF token in `X-CSRF-Token` (a header another origin
//!   cannot set without a CORS preflight, which this endpoint never
//!   grants). Bearer-token requests (`autobot ctl`) need none: a browser
//!   never adds that header by itself.
//! - Pages are sent with a content security policy allowing only this
//!   origin's scripts and styles and no framing.
//!
//! # Where the data comes from
//! The status board and the endpoint's own read model (the equity history,
//! sampled once a second on this thread): never the core thread. Each
//! stream frame is the newest state, built when the client has taken the
//! last one (`http` coalesces), so a slow client gets fewer frames and a
//! stuck one is dropped.

use std::time::{Duration, Instant};

use autobot_engine::runtime::clock::unix_now_ms as unix_ms;

use autobot_engine::runtime::StatusBoard;

use crate::http::{Head, Response};

/// A session lasts this long after login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at once (the oldest gives way).
pub const MAX_SESSIONS: usize = 16;
/// The session cookie's name.
pub const COOKIE: &str = "autobot_session";
/// Equity samples kept (one a second: the last hour).
pub const HISTORY: usize = 3600;

const LOGIN_HTML: &str = include_str!("assets/login.html");
const DASHBOARD_HTML: &str = include_str!("assets/dashboard.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// A function the run gives the dashboard for figures the endpoint does not
/// own (the latency collector's latest per-stage percentiles).
#[derive(Clone)]
pub struct Probe(pub std::sync::Arc<dyn Fn() -> serde_json::Value + Send + Sync>);

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

/// What the dashboard shows that does not change while the run lasts.
#[derive(Clone, Default, serde::Serialize)]
pub struct DashboardInfo {
    /// Daily loss limit (USDT), as configured.
    pub daily_loss_limit: String,
    /// Maximum drawdown, as a fraction, as configured.
    pub max_drawdown: String,
    /// The run directory.
    pub run_dir: String,
    /// A finished run, shown read-only (`autobot dashboard RUN_DIR`).
    pub read_only: bool,
    /// Reports worth a link (name, path), written by the run when it ends.
    pub reports: Vec<(String, String)>,
}

impl std::fmt::Debug for DashboardInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardInfo")
            .field("run_dir", &self.run_dir)
            .finish_non_exhaustive()
    }
}

struct Session {
    id: String,
    csrf: String,
    expires: Instant,
}

/// One equity sample.
#[derive(Clone, Copy, serde::Serialize)]
struct Sample {
    /// Unix time, milliseconds.
    t: u64,
    /// Equity, USDT (as f64 for drawing only; the board has the decimals).
    equity: f64,
    /// Last sequence processed.
    seq: Option<u64>,
}

/// The dashboard's state on the endpoint's thread.
pub(super) struct Dashboard {
    sessions: Vec<Session>,
    /// Open streams: (ticket, session id).
    streams: Vec<(u64, String)>,
    next_stream: u64,
    history: Vec<Sample>,
    /// Next slot of `history` once it is full.
    history_next: usize,
    next_sample: Instant,
    pub(super) info: DashboardInfo,
    latency: Option<Probe>,
}

/// Why a request was not let in.
pub(super) enum Denied {
    /// No token, no session.
    Unauthorized,
    /// A session without the CSRF token on a state-changing request.
    Csrf,
}

/// Compares without stopping at the first difference.
pub(super) fn same(given: &[u8], want: &[u8]) -> bool {
    given.len() == want.len() && given.iter().zip(want).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// `application/x-www-form-urlencoded` value of `key` (percent-decoded,
/// `+` as space); `None` if absent or not UTF-8.
pub(super) fn form_value(body: &[u8], key: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = text.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An HTML page with the security headers every page carries.
fn page(status: u16, body: String) -> Response {
    secured(Response::new(status, "text/html; charset=utf-8", body))
}

fn secured(r: Response) -> Response {
    r.with_header(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .with_header("X-Content-Type-Options", "nosniff")
    .with_header("Referrer-Policy", "no-referrer")
    .with_header("Cache-Control", "no-store")
}

/// Text safe inside HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl Dashboard {
    pub(super) fn new(info: DashboardInfo, latency: Option<Probe>) -> Dashboard {
        Dashboard {
            sessions: Vec::with_capacity(MAX_SESSIONS),
            streams: Vec::new(),
            next_stream: 1,
            history: Vec::with_capacity(HISTORY),
            history_next: 0,
            next_sample: Instant::now(),
            info,
            latency,
        }
    }

    /// Paths anyone may ask for: the login page, the login itself, the
    /// assets, and `/` (which is the login page without a session).
    pub(super) fn is_public(method: &str, path: &str) -> bool {
        matches!(
            (method, path),
            (
                "GET",
                "/" | "/login" | "/assets/app.js" | "/assets/style.css"
            ) | ("POST", "/login")
        )
    }

    fn session(&self, head: &Head<'_>) -> Option<&Session> {
        let id = cookie(head.header("Cookie"), COOKIE)?;
        let now = Instant::now();
        self.sessions
            .iter()
            .find(|s| now < s.expires && same(id.as_bytes(), s.id.as_bytes()))
    }

    /// Lets a request in by its session cookie: state-changing ones also
    /// need the session's CSRF token.
    pub(super) fn admit(&self, head: &Head<'_>) -> Result<(), Denied> {
        let s = self.session(head).ok_or(Denied::Unauthorized)?;
        if head.method == "GET" {
            return Ok(());
        }
        let given = head.header("X-CSRF-Token").unwrap_or_default();
        if same(given.as_bytes(), s.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(Denied::Csrf)
        }
    }

    /// The dashboard's own routes; `None` for the command routes.
    pub(super) fn route(
        &mut self,
        head: &Head<'_>,
        body: &[u8],
        token: &[u8],
    ) -> Option<DashRoute> {
        let r = match (head.method, head.path()) {
            ("GET", "/") => match self.session(head) {
                Some(s) => DashRoute::Reply(self.dashboard_page(&s.csrf)),
                None => DashRoute::Reply(login_page(200, "")),
            },
            ("GET", "/login") => DashRoute::Reply(login_page(200, "")),
            ("POST", "/login") => self.login(head, body, token),
            ("POST", "/logout") => DashRoute::Reply(self.logout(head)),
            ("GET", "/assets/app.js") => DashRoute::Reply(secured(Response::new(
                200,
                "text/javascript; charset=utf-8",
                APP_JS,
            ))),
            ("GET", "/assets/style.css") => DashRoute::Reply(secured(Response::new(
                200,
                "text/css; charset=utf-8",
                STYLE_CSS,
            ))),
            ("GET", "/history") => DashRoute::Reply(Response::json(200, self.history_json())),
            ("GET", "/info") => DashRoute::Reply(Response::json(
                200,
                serde_json::to_string(&self.info).unwrap_or_default(),
            )),
            ("GET", "/events") => self.open_stream(head),
            _ => return None,
        };
        Some(r)
    }

    fn dashboard_page(&self, csrf: &str) -> Response {
        let html = DASHBOARD_HTML
            .replace("{{csrf}}", &html_escape(csrf))
            .replace("{{run_dir}}", &html_escape(&self.info.run_dir))
            .replace(
                "{{read_only}}",
                if self.info.read_only { "true" } else { "false" },
            );
        page(200, html)
    }

    fn login(&mut self, head: &Head<'_>, body: &[u8], token: &[u8]) -> DashRoute {
        let given = form_value(body, "token").unwrap_or_default();
        if !same(given.trim().as_bytes(), token) {
            return DashRoute::LoginFailed(login_page(
                401,
                "That token is not this run's. It is in RUN_DIR/control.token \
                 (or AUTOBOT_CONTROL_TOKEN).",
            ));
        }
        let (Ok(id), Ok(csrf)) = (crate::os::random_hex(32), crate::os::random_hex(32)) else {
            return DashRoute::Reply(login_page(503, "no random source for a session"));
        };
        let now = Instant::now();
        self.sessions.retain(|s| now < s.expires);
        if self.sessions.len() >= MAX_SESSIONS {
            self.sessions.remove(0);
        }
        // Under TLS the cookie never travels in the clear.
        let cookie = format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
            SESSION_TTL.as_secs(),
            if head.secure { "; Secure" } else { "" }
        );
        self.sessions.push(Session {
            id,
            csrf,
            expires: now + SESSION_TTL,
        });
        DashRoute::Reply(
            secured(Response::new(
                303,
                "text/plain; charset=utf-8",
                "logged in\n",
            ))
            .with_header("Location", "/")
            .with_header("Set-Cookie", cookie),
        )
    }

    fn logout(&mut self, head: &Head<'_>) -> Response {
        if let Some(id) = cookie(head.header("Cookie"), COOKIE) {
            let id = id.to_string();
            self.sessions.retain(|s| s.id != id);
            self.streams.retain(|(_, s)| *s != id);
        }
        secured(Response::new(
            303,
            "text/plain; charset=utf-8",
            "logged out\n",
        ))
        .with_header("Location", "/login")
        .with_header(
            "Set-Cookie",
            format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
        )
    }

    fn open_stream(&mut self, head: &Head<'_>) -> DashRoute {
        if self.streams.len() >= crate::http::MAX_STREAMS {
            return DashRoute::Reply(Response::text(503, "too many live dashboards\n"));
        }
        // A bearer client has no session: its stream lasts until it leaves.
        let session = cookie(head.header("Cookie"), COOKIE)
            .unwrap_or_default()
            .to_string();
        let ticket = self.next_stream;
        self.next_stream += 1;
        self.streams.push((ticket, session));
        DashRoute::Stream(ticket)
    }

    /// The next frame of stream `ticket`: the newest status, or `None`
    /// once its session ended.
    pub(super) fn frame(&self, ticket: u64, status: &str) -> Option<String> {
        let (_, session) = self.streams.iter().find(|(t, _)| *t == ticket)?;
        let now = Instant::now();
        let live = session.is_empty()
            || self
                .sessions
                .iter()
                .any(|s| s.id == *session && now < s.expires);
        if !live {
            return None;
        }
        let latency = self
            .latency
            .as_ref()
            .map_or(serde_json::Value::Null, |p| (p.0)());
        Some(format!(
            "event: status\ndata: {{\"t\":{},\"status\":{status},\"latency\":{latency}}}\n\n",
            unix_ms()
        ))
    }

    pub(super) fn stream_closed(&mut self, ticket: u64) {
        self.streams.retain(|(t, _)| *t != ticket);
    }

    /// Samples the equity once a second (called on every turn of the
    /// endpoint's loop).
    pub(super) fn tick(&mut self, board: &StatusBoard) {
        let now = Instant::now();
        // A finished run's board does not move: its history is its replay's.
        if self.info.read_only || now < self.next_sample {
            return;
        }
        self.next_sample = now + Duration::from_secs(1);
        let snap = board.snapshot();
        let sample = Sample {
            t: unix_ms(),
            equity: snap.account.equity.to_f64(),
            seq: snap.last_seq.map(|s| s.0),
        };
        if self.history.len() < HISTORY {
            self.history.push(sample);
        } else {
            self.history[self.history_next] = sample;
            self.history_next = (self.history_next + 1) % HISTORY;
        }
    }

    /// Starts the history with `samples` (a finished run's, from its
    /// replay: `(exchange time ms, equity, last sequence)`), the last
    /// [`HISTORY`] of them evenly thinned.
    pub(super) fn preload(&mut self, samples: &[(u64, f64, u64)]) {
        let step = samples.len().div_ceil(HISTORY).max(1);
        self.history = samples
            .iter()
            .step_by(step)
            .map(|&(t, equity, seq)| Sample {
                t,
                equity,
                seq: Some(seq),
            })
            .collect();
        self.history_next = 0;
    }

    fn history_json(&self) -> String {
        let (old, new) = self.history.split_at(self.history_next);
        let ordered: Vec<&Sample> = new.iter().chain(old).collect();
        serde_json::to_string(&ordered).unwrap_or_else(|_| "[]".into())
    }
}

/// What a dashboard route came to.
pub(super) enum DashRoute {
    /// Answer now.
    Reply(Response),
    /// A wrong token at the login form (counted as unauthorized).
    LoginFailed(Response),
    /// Open an event stream.
    Stream(u64),
}

fn login_page(status: u16, message: &str) -> Response {
    let shown = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"error\" id=\"login-error\">{}</p>",
            html_escape(message)
        )
    };
    page(status, LOGIN_HTML.replace("{{message}}", &shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value(b"token=a%2Bb+c&x=1", "token").as_deref(),
            Some("a+b c")
        );
        assert_eq!(form_value(b"x=1", "token"), None);
        assert_eq!(form_value(b"token=%zz", "token"), None);
        assert_eq!(form_value(b"token=%4", "token"), None);
        assert_eq!(form_value(b"token=", "token").as_deref(), Some(""));
    }

    #[test]
    fn cookies_by_name() {
        let h = Some("a=1; autobot_session=abc; b=2");
        assert_eq!(cookie(h, COOKIE), Some("abc"));
        assert_eq!(cookie(Some("autobot_session_x=1"), COOKIE), None);
        assert_eq!(cookie(None, COOKIE), None);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
