//! The Prometheus endpoint over a real socket on 127.0.0.1: every family
//! the issue names is served in the OpenMetrics text format, from a running
//! pipeline's board, gauges and latency collector; anything but
//! `GET /metrics` is a 404; a non-loopback address is refused.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use autobot_engine::runtime::latency::{Stage, StageHistograms};
use autobot_engine::runtime::{PipelineGauges, StatusBoard};
use autobot_tools::latency::collector::summaries;
use autobot_tools::metrics::{MetricsError, MetricsServer, Sources};

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn sources() -> Sources {
    let mut h = StageHistograms::new();
    for v in 1..=1_000u64 {
        h.record(Stage::Decide, v * 1_000);
    }
    Sources {
        board: Arc::new(StatusBoard::new(2)),
        gauges: Arc::new(PipelineGauges::new(4096)),
        latency: Arc::new(Mutex::new(summaries(&h))),
        symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
        notify: Some((Arc::default(), Arc::default())),
        advisor: None,
    }
}

#[test]
fn every_family_is_served_in_the_text_format() {
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), sources()).unwrap();
    let reply = get(server.addr(), "/metrics");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains("application/openmetrics-text; version=1.0.0"),
        "{reply}"
    );
    let body = reply.split("\r\n\r\n").nth(1).unwrap();
    for family in [
        "autobot_system_state{state=\"safe_mode\"} ",
        "autobot_control_mode{mode=\"emergency\"} ",
        "autobot_kill_switch 0",
        "autobot_position{symbol=\"ETHUSDT\"} 0",
        "autobot_equity_usdt ",
        "autobot_symbol_pnl_usdt{symbol=\"BTCUSDT\",kind=\"realized\"} 0",
        "# TYPE autobot_events counter",
        "autobot_events_total 0",
        "autobot_orders_total 0",
        "autobot_rejects_total 0",
        "autobot_ring_fill 0",
        "autobot_ring_size 4096",
        "autobot_journal_lag 0",
        "autobot_latency_stamps_dropped_total 0",
        "autobot_notifications_delivered_total 0",
        "autobot_notifications_spooled_total 0",
        "autobot_notices_dropped_total 0",
        "# TYPE autobot_latency_seconds histogram",
        "autobot_latency_seconds_count{stage=\"decide\"} 1000",
        "# TYPE autobot_latency_quantile_seconds gauge",
    ] {
        assert!(body.contains(family), "`{family}` missing:\n{body}");
    }
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    for one_hot in ["autobot_system_state{", "autobot_control_mode{"] {
        let on = body
            .lines()
            .filter(|l| l.starts_with(one_hot) && l.ends_with(" 1"))
            .count();
        assert_eq!(on, 1, "exactly one {one_hot}…}} is 1");
    }
    let value = |prefix: &str| -> f64 {
        let line = body
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}:\n{body}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    // p50 of 1..=1000 µs is 500 µs: the exact HDR figure.
    let p50 = value("autobot_latency_quantile_seconds{stage=\"decide\",quantile=\"0.5\"}");
    assert!((p50 - 500e-6).abs() < 1e-6, "{p50}");
    // The buckets are cumulative: 1..=1000 µs puts 250 at or under 250 µs,
    // 1000 at or under 1 ms, and all of them under +Inf.
    for (le, n) in [("0.00025", 250), ("0.001", 1000), ("+Inf", 1000)] {
        let got = value(&format!(
            "autobot_latency_seconds_bucket{{le=\"{le}\",stage=\"decide\"}}"
        ));
        assert_eq!(got as u64, n, "le {le}");
    }
    let sum = value("autobot_latency_seconds_sum{stage=\"decide\"}");
    assert!((sum - 0.5005).abs() < 1e-3, "{sum}");
    // Every sample line is `name{labels} value` with a number.
    for line in body.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    assert!(get(server.addr(), "/status").starts_with("HTTP/1.1 404"));
    assert_eq!(server.stop(), 1, "one scrape answered");
}

#[test]
fn only_loopback_is_served() {
    let e = MetricsServer::start("0.0.0.0:0".parse().unwrap(), sources()).unwrap_err();
    assert!(matches!(e, MetricsError::NotLoopback(_)), "{e}");
}
