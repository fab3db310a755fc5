//! Notifications against a local HTTP receiver on loopback (a real
//! socket, a real HTTP exchange): each notice kind delivered once with its
//! content, in each payload shape and to the Telegram Bot API; retries
//! after HTTP 500s; a burst coalesced by the rate limit; a receiver down
//! for 10 s then up; undeliverable messages spooled; no secret in any
//! spool line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use autobot_engine::event::{
    Alert, AlertCode, ChangeCause, ControlMode, ModeChange, OutputBody, OutputEvent, StateChange,
    SystemState,
};
use autobot_engine::event::{EventHeader, InputBody, InputEvent, OrderUpdate};
use autobot_engine::runtime::StatusBoard;
use autobot_engine::runtime::notices::{Fills, Notices, Stamped};
use autobot_engine::types::{ClientOrderId, Price, Qty, Rate, Seq, Side, SymbolId};
use autobot_gateways::credentials::Hidden;
use autobot_gateways::notify::{
    ChannelConfig, LargeFills, Message, Names, Notifier, NotifyConfig, PayloadShape, Policy,
    Severity, Sink, Watch,
};
use autobot_test_support::Scratch;
use autobot_test_support::receiver::Receiver;

const SECRET: &str = "T0KEN-do-not-leak";

fn policy(per_minute: u32, retries: u32) -> Policy {
    Policy {
        per_minute,
        retries,
        backoff: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
    }
}

fn webhook(addr: std::net::SocketAddr, shape: PayloadShape, p: Policy) -> ChannelConfig {
    ChannelConfig {
        sink: Sink::Webhook {
            url: Hidden::new(format!("http://{addr}/hook/{SECRET}")),
            shape,
        },
        policy: p,
    }
}

fn notifier(channels: Vec<ChannelConfig>, spool: Option<std::path::PathBuf>) -> Notifier {
    Notifier::start(NotifyConfig {
        channels,
        spool,
        run: "test-run".into(),
    })
    .unwrap()
}

fn msg(text: &str) -> Message {
    Message::new("alert", Severity::Warning, text.into(), "test-run")
}

fn out(seq: u64, body: OutputBody) -> OutputEvent {
    OutputEvent {
        cause: Seq(seq),
        body,
        ..OutputEvent::default()
    }
}

#[test]
fn each_notice_kind_is_delivered_once_with_its_content() {
    let rx = Receiver::start(&[]);
    let n = Arc::new(notifier(
        vec![webhook(rx.addr(), PayloadShape::Json, policy(100, 2))],
        None,
    ));
    let (tx, queue) = std::sync::mpsc::sync_channel(64);
    let notices = Notices {
        rx: queue,
        dropped: Arc::new(AtomicU64::new(0)),
    };
    let board = Arc::new(StatusBoard::new(2));
    let names = Names {
        symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
        dashboard: Some("http://127.0.0.1:1".into()),
    };
    // Fills: one of 30,000 USDT (announced), one of 60 (not).
    let (fill_tx, fill_rx) = std::sync::mpsc::sync_channel(8);
    let fill = |qty: &str| InputEvent {
        header: EventHeader {
            symbol: SymbolId(0),
            ..EventHeader::default()
        },
        body: InputBody::OrderUpdate(OrderUpdate {
            client_id: ClientOrderId(77),
            side: Side::Buy,
            last_price: Price::parse("60000").unwrap(),
            last_qty: Qty::parse(qty).unwrap(),
            cum_qty: Qty::parse(qty).unwrap(),
            ..OrderUpdate::default()
        }),
    };
    fill_tx.send(fill("0.5")).unwrap();
    fill_tx.send(fill("0.001")).unwrap();
    let large = LargeFills {
        fills: Fills {
            rx: fill_rx,
            dropped: Arc::new(AtomicU64::new(0)),
        },
        notional: 25_000.0,
    };
    let watch = Watch::start(Arc::clone(&n), notices, board, names, Some(large)).unwrap();
    let events = [
        out(
            10,
            OutputBody::StateChange(StateChange {
                from: SystemState::Running,
                to: SystemState::Halted,
                cause: ChangeCause::DailyLoss,
            }),
        ),
        out(
            11,
            OutputBody::ModeChange(ModeChange {
                from: ControlMode::FullAuto,
                to: ControlMode::Emergency,
                cause: ChangeCause::KillSwitch,
            }),
        ),
        out(
            12,
            OutputBody::ModeChange(ModeChange {
                from: ControlMode::Emergency,
                to: ControlMode::Manual,
                cause: ChangeCause::Operator,
            }),
        ),
        out(
            13,
            OutputBody::Alert(Alert {
                code: AlertCode::LiquidationNear,
                symbol: SymbolId(1),
                value: Rate::parse("0.015").unwrap().raw(),
            }),
        ),
        out(
            14,
            OutputBody::Alert(Alert {
                code: AlertCode::OrderRejected,
                symbol: SymbolId(0),
                value: -2019,
            }),
        ),
        // Not a notice: the watcher says nothing of it.
        out(15, OutputBody::Funding(Default::default())),
    ];
    for out in events {
        tx.send(Stamped {
            out,
            at: autobot_engine::types::UnixNanos(1_700_000_000_000_000_000),
        })
        .unwrap();
    }
    drop(tx);
    rx.wait_for(6, Duration::from_secs(30));
    watch.stop();
    let n = Arc::try_unwrap(n).unwrap();
    let stats = n.stop();
    let got: Vec<serde_json::Value> = rx
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(got.len(), 6, "{got:#?}");
    let fills: Vec<&serde_json::Value> = got.iter().filter(|m| m["kind"] == "fill").collect();
    assert_eq!(fills.len(), 1, "only the large fill: {fills:#?}");
    let text = fills[0]["text"].as_str().unwrap();
    assert!(
        text.contains("buy 0.5 BTCUSDT at 60000 = 30000.00 USDT"),
        "{text}"
    );
    let got: Vec<serde_json::Value> = got.into_iter().filter(|m| m["kind"] != "fill").collect();
    let field = |i: usize, k: &str| got[i][k].as_str().unwrap_or_default().to_string();
    assert_eq!(field(0, "kind"), "state");
    assert_eq!(field(0, "severity"), "critical");
    assert!(
        field(0, "text").contains("RUNNING → HALTED (daily loss)"),
        "{}",
        field(0, "text")
    );
    assert_eq!(got[0]["seq"], 10);
    assert_eq!(field(1, "kind"), "kill_switch");
    assert!(field(1, "text").contains("kill switch engaged"));
    assert_eq!(field(2, "kind"), "mode");
    assert!(field(2, "text").contains("emergency → manual (operator)"));
    assert_eq!(field(3, "kind"), "alert");
    assert!(
        field(3, "text").contains(
            "liquidation_near on ETHUSDT: the position is 1.50% from its liquidation price"
        ),
        "{}",
        field(3, "text")
    );
    assert!(field(4, "text").contains("order_rejected on BTCUSDT"));
    assert!(field(4, "text").contains("code -2019"));
    assert_eq!(field(4, "run"), "test-run");
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 6);
    for r in rx.received() {
        assert_eq!(r.path, format!("/hook/{SECRET}"));
    }
}

#[test]
fn slack_discord_and_telegram_get_their_own_shapes() {
    let rx = Receiver::start(&[]);
    let telegram = ChannelConfig {
        sink: Sink::Telegram {
            base_url: format!("http://{}", rx.addr()),
            token: Hidden::new(format!("123:{SECRET}")),
            chat_id: "-1001".into(),
        },
        policy: policy(100, 0),
    };
    let n = notifier(
        vec![
            webhook(rx.addr(), PayloadShape::Slack, policy(100, 0)),
            webhook(rx.addr(), PayloadShape::Discord, policy(100, 0)),
            telegram,
        ],
        None,
    );
    n.send(&msg("margin low"));
    n.stop();
    let got = rx.received();
    assert_eq!(got.len(), 3, "{got:#?}");
    let bodies: Vec<serde_json::Value> = got
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let slack = bodies
        .iter()
        .find(|b| b.get("text").is_some() && b.get("chat_id").is_none());
    let discord = bodies.iter().find(|b| b.get("content").is_some());
    let tg = got
        .iter()
        .find(|r| r.path == format!("/bot123:{SECRET}/sendMessage"))
        .expect("sendMessage");
    let tg: serde_json::Value = serde_json::from_str(&tg.body).unwrap();
    assert!(
        slack.unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("margin low")
    );
    assert!(
        discord.unwrap()["content"]
            .as_str()
            .unwrap()
            .contains("autobot test-run")
    );
    assert_eq!(tg["chat_id"], "-1001");
    assert!(tg["text"].as_str().unwrap().contains("margin low"));
}

#[test]
fn http_500s_are_retried_and_a_burst_is_coalesced() {
    // Two 500s, then 200: one message, delivered on the third attempt.
    let rx = Receiver::start(&[500, 500]);
    let n = notifier(
        vec![webhook(rx.addr(), PayloadShape::Json, policy(100, 3))],
        None,
    );
    n.send(&msg("after two failures"));
    let stats = n.stop();
    assert_eq!(rx.received().len(), 3, "three attempts");
    assert_eq!(stats.retries.load(Ordering::Relaxed), 2);
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 1);
    assert_eq!(stats.spooled.load(Ordering::Relaxed), 0);

    // Ten at once against three a minute: three go, the other seven come
    // as one "7 more" message naming the latest.
    let rx = Receiver::start(&[]);
    let n = notifier(
        vec![webhook(rx.addr(), PayloadShape::Json, policy(3, 0))],
        None,
    );
    for i in 0..10 {
        n.send(&msg(&format!("burst {i}")));
    }
    let stats = n.stop();
    let got = rx.received();
    assert_eq!(got.len(), 4, "{got:#?}");
    let last: serde_json::Value = serde_json::from_str(&got[3].body).unwrap();
    assert_eq!(last["kind"], "coalesced");
    let text = last["text"].as_str().unwrap();
    assert!(
        text.starts_with("7 more alerts in the last minute"),
        "{text}"
    );
    assert!(text.ends_with("burst 9"), "{text}");
    assert_eq!(stats.coalesced.load(Ordering::Relaxed), 7);
}

#[test]
fn a_receiver_down_for_10_s_gets_everything_once_it_is_up_and_what_cannot_go_is_spooled() {
    let dir = Scratch::new("notify");
    // A port that refuses connections: bound once, then closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let spool = dir.join("notifications.jsonl");
    // Backoff 200 ms doubling over 7 retries spans about 25 s.
    let n = notifier(
        vec![webhook(addr, PayloadShape::Json, policy(100, 7))],
        Some(spool.clone()),
    );
    for i in 0..5 {
        n.send(&msg(&format!("while down {i}")));
    }
    // The outage itself: the receiver is down for 10 s.
    std::thread::sleep(Duration::from_secs(10));
    let rx = Receiver::start_at(addr, &[]);
    let stats = n.stop();
    let got = rx.received();
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 5);
    assert_eq!(stats.spooled.load(Ordering::Relaxed), 0);
    assert!(stats.retries.load(Ordering::Relaxed) >= 3);

    // With nobody ever listening and one retry, each message is spooled,
    // counted, and the spool names no secret.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let n = notifier(
        vec![webhook(nobody, PayloadShape::Json, policy(100, 1))],
        Some(spool.clone()),
    );
    n.send(&msg("never delivered"));
    let stats = n.stop();
    assert_eq!(stats.failed.load(Ordering::Relaxed), 1);
    assert_eq!(stats.spooled.load(Ordering::Relaxed), 1);
    let text = std::fs::read_to_string(&spool).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(line["text"], "never delivered");
    assert_eq!(line["channel"], "webhook");
    assert!(!line["error"].as_str().unwrap().is_empty());
    assert!(!text.contains(SECRET), "{text}");
}
