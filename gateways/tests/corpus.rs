//! The parsers over every real Binance message in `../shared/data/binance/`
//! (see its README) and the documentation's stream shapes: each message
//! becomes the right events or is refused with a counted reason, and
//! nothing panics. Then mangled copies of those messages (truncated,
//! bytes flipped, fields dropped) through the same parser: refused or
//! parsed, never a panic, never a half-emitted message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use autobot_engine::event::{InputBody, InputEvent, OrderStatus};
use autobot_engine::types::{ClientOrderId, ExchangeOrderId, MonoNanos, SymbolId};
use autobot_gateways::binance::parse::{ParseError, Parsed, Parser, Symbols};
use autobot_gateways::binance::rest::{ErrorAction, error_action, error_body};
use autobot_gateways::binance::user::{UserMessage, parse_user};
use proptest::prelude::*;
use simd_json::prelude::*;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/binance"
    ))
    .join(rel)
}

fn parse(p: &mut Parser, json: &str) -> (Result<Parsed, ParseError>, Vec<InputEvent>) {
    let mut bytes = json.as_bytes().to_vec();
    let mut out = Vec::new();
    let r = p.parse(&mut bytes, MonoNanos(1), Some(SymbolId(0)), |e| out.push(e));
    (r, out)
}

/// The messages of the 2021 capture (`<local ts>: <json>` after a URL line).
fn ws_capture() -> Vec<String> {
    std::fs::read_to_string(data("ws/BINANCE_FUTURES.ws.1.0"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": ").map(|(_, j)| j.to_string()))
        .collect()
}

fn capture_parser() -> Parser {
    Parser::new(Symbols::new(&[
        "SUSHIUSDT",
        "AKROUSDT",
        "KEEPUSDT",
        "CTKUSDT",
    ]))
}

#[test]
fn real_exchange_info_yields_every_symbols_rules_and_tolerates_new_filters() {
    use autobot_engine::types::{Money, Price, Qty};
    use autobot_gateways::binance::exchange_info::parse_exchange_info;
    // 2025: 25 symbols, with the newer POSITION_RISK_CONTROL filter.
    let mut recent = std::fs::read(data("rest/exchangeInfo_2025-08-07.json")).unwrap();
    let info = parse_exchange_info(&mut recent).unwrap();
    assert_eq!(
        (info.symbols.len(), info.refused.len()),
        (25, 0),
        "{:?}",
        info.refused
    );
    let btc = info.get("BTCUSDT").unwrap();
    assert_eq!(btc.status, "TRADING");
    assert_eq!(btc.contract_type, "PERPETUAL");
    assert_eq!(btc.tick_size, Price::parse("0.10").unwrap());
    assert_eq!(btc.step_size, Qty::parse("0.001").unwrap());
    assert_eq!(btc.min_qty, Qty::parse("0.001").unwrap());
    assert_eq!(btc.max_qty, Qty::parse("1000").unwrap());
    assert_eq!(btc.max_market_qty, Qty::parse("120").unwrap());
    assert_eq!(btc.min_notional, Money::parse("100").unwrap());
    // 2021: the first line of the cryptofeed capture, 122 symbols.
    let text = std::fs::read_to_string(data("ws/BINANCE_FUTURES.0")).unwrap();
    let line = text.lines().next().unwrap();
    let (_, json) = line.split_once(": ").unwrap();
    let mut old = json.as_bytes().to_vec();
    let info = parse_exchange_info(&mut old).unwrap();
    assert_eq!(
        (info.symbols.len(), info.refused.len()),
        (122, 0),
        "{:?}",
        info.refused
    );
    // The shipped config's instruments are what the exchange listed.
    let eth = info.get("ETHUSDT").unwrap();
    assert_eq!(eth.tick_size, Price::parse("0.01").unwrap());
}

#[test]
fn every_message_of_the_real_ws_capture_becomes_the_right_events() {
    let mut p = capture_parser();
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for json in ws_capture() {
        let (r, events) = parse(&mut p, &json);
        let r = r.unwrap_or_else(|e| panic!("{e}: {json}"));
        *by.entry(format!("{r:?}").split('(').next().unwrap().to_string())
            .or_default() += 1;
        for e in &events {
            *kinds
                .entry(InputBody::KIND_NAMES[e.body.kind_index()])
                .or_default() += 1;
        }
    }
    // 613 bookTicker, 764 depthUpdate, 91 aggTrade, 67 kline (the README).
    assert_eq!(by["BookTicker"], 613, "{by:?}");
    assert_eq!(by["Depth"], 764, "{by:?}");
    assert_eq!(by["Trade"], 91, "{by:?}");
    assert_eq!(
        by.get("Kline").unwrap_or(&0) + by.get("Ignored").unwrap_or(&0),
        67,
        "{by:?}"
    );
    assert!(
        by.get("Kline").is_some_and(|&k| k > 0),
        "closed candles: {by:?}"
    );
    assert_eq!(kinds["book_ticker"], 613);
    println!("capture: {by:?}; events {kinds:?}");
}

#[test]
fn the_rest_depth_snapshots_parse_whole() {
    // Four /fapi/v1/depth?limit=1000 bodies, one per line after a URL line.
    let text = std::fs::read_to_string(data("ws/BINANCE_FUTURES.http.0.0")).unwrap();
    let mut p = capture_parser();
    let mut snapshots = 0;
    for json in text.lines().filter_map(|l| l.find('{').map(|i| &l[i..])) {
        let (r, events) = parse(&mut p, json);
        if let Ok(Parsed::Snapshot(n)) = r {
            assert_eq!(n, events.len());
            assert!(events.iter().all(|e| matches!(e.body, InputBody::Depth(_))));
            snapshots += 1;
        }
    }
    assert_eq!(snapshots, 4);
}

/// The payload of a documentation socket example (after the `=` line).
fn doc_payload(text: &str) -> Option<String> {
    let at = text.find("\n=")?;
    Some(text[at + 2..].trim().to_string())
}

#[test]
fn documented_market_streams_parse_and_user_events_are_refused_by_reason() {
    let dir = data("doc-examples/Subscriptions/UsdFutures");
    let mut p = Parser::new(Symbols::new(&["BTCUSDT", "BNBUSDT"]));
    let want_events = [
        "AggTrades.txt",
        "Book.txt",
        "BookTicker.txt",
        "Liquidations.txt",
        "MarkPrice.txt",
    ];
    let mut seen = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let Some(json) = doc_payload(&std::fs::read_to_string(&path).unwrap()) else {
            continue;
        };
        seen += 1;
        let (r, events) = parse(&mut p, &json);
        if name == "Klines.txt" {
            // The documentation's placeholder candle opens at 0.0010 below
            // its low of 0.0015: the shape parses, the values are refused.
            assert_eq!(r, Err(ParseError::Range("k")), "{name}");
            assert!(events.is_empty());
        } else if want_events.contains(&name.as_str()) {
            let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!events.is_empty() || r == Parsed::Ignored, "{name}: {r:?}");
        } else if let Err(e) = r {
            // User-data and other streams: refused with a named reason.
            assert!(events.is_empty(), "{name}: events emitted with {e}");
            assert!(
                matches!(
                    e,
                    ParseError::UnknownEvent
                        | ParseError::UnknownSymbol
                        | ParseError::Field(_)
                        | ParseError::Json
                ),
                "{name}: {e}"
            );
        }
    }
    assert!(seen >= 20, "{seen} examples");
}

#[test]
fn real_error_bodies_map_to_actions_by_code() {
    let mut actions = BTreeMap::new();
    for (status, body) in captures("error") {
        let (body, status) = (body.as_str(), status.unwrap_or(400));
        let (code, msg) = error_body(body);
        let code = code.unwrap_or_else(|| panic!("no code in {body}"));
        assert!(!msg.is_empty());
        actions.insert(code, error_action(status, Some(code)));
    }
    assert_eq!(actions[&-1021], ErrorAction::ResyncClock);
    assert_eq!(actions[&-1003], ErrorAction::BackOff);
    assert_eq!(actions[&-2019], ErrorAction::RejectAndAlert);
    for code in [-4003, -4164, -1106, -5022, -1116, -1111, -4067, -1013] {
        assert_eq!(actions[&code], ErrorAction::Reject, "code {code}");
    }
    // A proxy's HTML page is not a Binance error: no code, its text kept.
    assert_eq!(error_body("<html>502</html>").0, None);
}

fn user(json: &str) -> (Result<UserMessage, ParseError>, Vec<InputEvent>) {
    let mut bytes = json.as_bytes().to_vec();
    let mut out = Vec::new();
    let syms = Symbols::new(&["BTCUSDT", "SOLUSDT"]);
    let r = parse_user(&mut bytes, &syms, "USDT", MonoNanos(1), &mut out);
    (r, out)
}

/// An `ALGO_UPDATE` of the documentation's shape for `caid`.
fn algo_update(caid: &str, status: &str) -> String {
    format!(
        r#"{{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{{"caid":"{caid}","aid":2148719,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0","X":"{status}","ai":"","ap":"0","aq":"0","act":"0","tp":"59000","p":"0","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":true,"pP":false,"R":false,"tt":0,"gtd":0}}}}"#
    )
}

/// `ALGO_UPDATE` of our protective stops: acknowledgement and end become
/// order updates; the trigger stages are left to the triggered order's own
/// `ORDER_TRADE_UPDATE` (it carries our id).
#[test]
fn our_algo_orders_are_acknowledged_and_ended_and_their_trigger_left_to_the_order() {
    for (status, want) in [
        ("NEW", Some(OrderStatus::Accepted)),
        ("CANCELED", Some(OrderStatus::Cancelled)),
        ("EXPIRED", Some(OrderStatus::Expired)),
        ("REJECTED", Some(OrderStatus::Expired)),
        ("TRIGGERING", None),
        ("TRIGGERED", None),
        ("FINISHED", None),
    ] {
        let (r, out) = user(&algo_update("ab42", status));
        match want {
            Some(s) => {
                assert_eq!(r, Ok(UserMessage::Order), "{status}");
                let InputBody::OrderUpdate(u) = out[0].body else {
                    panic!("{status}: {out:?}")
                };
                assert_eq!((u.client_id, u.status), (ClientOrderId(42), s));
                assert_eq!(u.exchange_id, ExchangeOrderId(2148719));
                assert!(u.last_qty.is_zero());
            }
            None => assert_eq!((r, out.len()), (Ok(UserMessage::Ignored), 0), "{status}"),
        }
    }
}

#[test]
fn anothers_algo_order_is_foreign_and_a_bad_status_is_refused() {
    assert_eq!(
        user(&algo_update("Q5xaq5EGKgXXa0fD7fs0Ip", "NEW")).0,
        Ok(UserMessage::Foreign)
    );
    assert_eq!(
        user(&algo_update("ab1", "SOMETHING")).0,
        Err(ParseError::Field("X"))
    );
}

/// The user-stream events people captured from the real exchange (old
/// and new field sets, the string `E`) and the documentation's examples.
#[test]
fn real_and_documented_user_events_parse_by_their_rules() {
    let mut seen = BTreeMap::new();
    for (_, body) in captures("user_stream_event") {
        let body = body.as_str();
        // The captures' client ids are other bots' and the web UI's: read
        // as ours (`ab<n>`) to check every field, and as they are.
        let (r, evs) = user(body);
        let ours = as_ours(body);
        let (r_ours, evs_ours) = user(&ours);
        let r = r.unwrap_or_else(|e| panic!("{e}: {body}"));
        let r_ours = r_ours.unwrap_or_else(|e| panic!("{e}: {ours}"));
        match r_ours {
            UserMessage::Order => {
                assert_eq!(r, UserMessage::Foreign);
                assert!(evs.is_empty());
                let InputBody::OrderUpdate(u) = evs_ours[0].body else {
                    panic!()
                };
                if body.contains("\"X\":\"FILLED\"") {
                    assert_eq!(u.last_qty, u.cum_qty, "{body}");
                    assert!(u.fee.is_positive());
                } else {
                    assert!(u.last_qty.is_zero());
                }
            }
            UserMessage::Account(n) => {
                // One one-way (BOTH) position; LONG/SHORT hedge rows skipped.
                assert_eq!(n, 1);
                let InputBody::AccountUpdate(a) = evs[0].body else {
                    panic!()
                };
                assert_eq!(a.position_qty.to_string(), "5");
                assert_eq!(a.wallet_balance.to_string(), "41155.75036105");
            }
            other => assert!(evs.is_empty(), "{other:?}"),
        }
        *seen.entry(format!("{r_ours:?}")).or_insert(0) += 1;
    }
    assert_eq!(seen["ListenKeyExpired"], 1, "{seen:?}");
    assert_eq!(seen["Order"], 2, "{seen:?}");
    assert_eq!(seen["Account(1)"], 1, "{seen:?}");

    let dir = data("doc-examples/Subscriptions/UsdFutures");
    let doc = |f: &str| doc_payload(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
    // The documented account update: the USDT wallet (not BUSD's) and
    // the flat BOTH row; the LONG and SHORT hedge rows are skipped.
    let (r, evs) = user(&doc("AccountUpdate.txt"));
    assert_eq!(r, Ok(UserMessage::Account(1)));
    let InputBody::AccountUpdate(a) = evs[0].body else {
        panic!()
    };
    assert!(a.position_qty.is_zero());
    assert_eq!(a.wallet_balance.to_string(), "122624.12345678");
    let (r, _) = user(&doc("OrderUpdate.txt"));
    assert_eq!(r, Ok(UserMessage::Foreign));
    let (r, evs) = user(&doc("OrderUpdate.txt").replace("\"TEST\"", "\"ab9\""));
    assert_eq!(r, Ok(UserMessage::Order));
    assert_eq!(evs.len(), 1);
}

/// Real messages to mangle.
fn corpus() -> Vec<String> {
    let mut v: Vec<String> = ws_capture().into_iter().step_by(7).collect();
    let dir = data("doc-examples/Subscriptions/UsdFutures");
    for e in std::fs::read_dir(dir).unwrap() {
        if let Some(p) = doc_payload(&std::fs::read_to_string(e.unwrap().path()).unwrap()) {
            v.push(p);
        }
    }
    v
}

/// Book tickers and trades: 3 000 of the 2024 BTCUSDT capture and those
/// of the 2021 capture (read once).
fn hot_corpus() -> &'static [String] {
    static HOT: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    HOT.get_or_init(|| {
        use std::io::BufRead as _;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/ticks/btcusdt_20240808.gz"
        );
        let file = std::fs::File::open(path).unwrap();
        let mut v: Vec<String> = std::io::BufReader::new(flate2::read::GzDecoder::new(file))
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.split_once(' ').map(|(_, j)| j.to_string()))
            .filter(|j| j.contains("@bookTicker") || j.contains("@trade"))
            .take(3000)
            .collect();
        v.extend(
            ws_capture()
                .into_iter()
                .filter(|j| j.contains("\"bookTicker\"") || j.contains("\"aggTrade\"")),
        );
        v
    })
}

fn hot_parser() -> Parser {
    Parser::new(Symbols::new(&[
        "BTCUSDT",
        "SUSHIUSDT",
        "AKROUSDT",
        "KEEPUSDT",
        "CTKUSDT",
    ]))
}

/// JSON-aware edits: each one something the DOM-free path must either
/// read exactly as the DOM does or hand to it.
const SNIPPETS: [&str; 16] = [
    " ",
    "\n\t",
    r#","E":1"#,
    r#","e":"bookTicker""#,
    r#""x":{"y":1},"#,
    r#""x":[1,2],"#,
    r#"\u0041"#,
    "1.5",
    "-1",
    "1e3",
    "null",
    "true",
    "\"",
    "}",
    "é",
    r#","s":"BTCUSDT""#,
];

#[test]
fn the_dom_free_path_reads_every_real_hot_message_as_the_dom_does() {
    let mut p = hot_parser();
    for msg in hot_corpus() {
        let (mut a, mut b) = (msg.as_bytes().to_vec(), msg.as_bytes().to_vec());
        let (mut fast, mut dom) = (Vec::new(), Vec::new());
        let rf = p.parse(&mut a, MonoNanos(1), None, |e| fast.push(e));
        let rd = p.parse_dom(&mut b, MonoNanos(1), None, |e| dom.push(e));
        assert_eq!(rf, rd, "{msg}");
        assert_eq!(fast, dom, "{msg}");
        assert!(rf.is_ok(), "{msg}: {rf:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn the_dom_free_path_answers_mangled_messages_as_the_dom_does(
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        inserts in prop::collection::vec((any::<prop::sample::Index>(), 0..SNIPPETS.len()), 0..3),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let all = hot_corpus();
        let mut m = all[pick.index(all.len())].as_bytes().to_vec();
        for (at, s) in &inserts {
            let i = at.index(m.len() + 1);
            m.splice(i..i, SNIPPETS[*s].bytes());
        }
        for (at, b) in &flips {
            let i = at.index(m.len());
            m[i] = *b;
        }
        if let Some(c) = cut {
            m.truncate(c.index(m.len() + 1));
        }
        let mut p = hot_parser();
        let (mut a, mut b) = (m.clone(), m.clone());
        let (mut fast, mut dom) = (Vec::new(), Vec::new());
        let rf = p.parse(&mut a, MonoNanos(1), None, |e| fast.push(e));
        let rd = p.parse_dom(&mut b, MonoNanos(1), None, |e| dom.push(e));
        prop_assert_eq!(&rf, &rd, "{}", String::from_utf8_lossy(&m));
        prop_assert_eq!(fast, dom);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mangled_messages_are_refused_or_parsed_never_a_panic(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        drop_from in any::<prop::sample::Index>(),
        drop_len in 0usize..12,
    ) {
        let all = corpus();
        let msg = all[pick.index(all.len())].as_bytes().to_vec();
        let mut m = msg.clone();
        for (at, b) in &flips {
            let i = at.index(m.len());
            m[i] = *b;
        }
        let from = drop_from.index(m.len());
        let to = (from + drop_len).min(m.len());
        m.drain(from..to);
        let keep = cut.index(m.len() + 1);
        m.truncate(keep.max(m.len() / 2));
        let mut p = capture_parser();
        let mut out = Vec::new();
        let r = p.parse(&mut m, MonoNanos(1), Some(SymbolId(0)), |e| out.push(e));
        match r {
            Err(_) | Ok(Parsed::Ignored) => prop_assert!(out.is_empty()),
            Ok(Parsed::Depth(n) | Parsed::Snapshot(n)) => prop_assert_eq!(n, out.len()),
            Ok(_) => prop_assert_eq!(out.len(), 1),
        }
    }

    #[test]
    fn mangled_user_events_are_refused_or_parsed_never_a_panic(
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let all = user_corpus();
        let mut m = all[pick.index(all.len())].as_bytes().to_vec();
        for (at, b) in &flips {
            let i = at.index(m.len());
            m[i] = *b;
        }
        let keep = cut.index(m.len() + 1);
        m.truncate(keep.max(m.len() * 3 / 4));
        let text = String::from_utf8_lossy(&m).into_owned();
        let (r, out) = user(&text);
        match r {
            Ok(UserMessage::Order) => prop_assert_eq!(out.len(), 1),
            Ok(UserMessage::Account(n)) => prop_assert_eq!(out.len(), n),
            _ => prop_assert!(out.is_empty()),
        }
    }
}

/// The HTTP status (if any) and body of every record of `kind` in the
/// captured-issues file.
fn captures(kind: &str) -> Vec<(Option<u16>, String)> {
    let text = std::fs::read_to_string(data("errors/issue_captures.jsonl")).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let mut bytes = line.as_bytes().to_vec();
        let rec = simd_json::to_owned_value(&mut bytes).unwrap();
        if rec.get("kind").and_then(|k| k.as_str()) != Some(kind) {
            continue;
        }
        let status = rec.get("http_status").and_then(|s| s.as_u64());
        let body = rec.get("body").and_then(|b| b.as_str()).unwrap();
        out.push((status.map(|s| s as u16), body.to_string()));
    }
    out
}

/// A captured user event with its foreign client ids replaced by ours.
fn as_ours(body: &str) -> String {
    body.replace("bot-e0536484551311f1b0c42676a180379c", "ab1")
        .replace("6bngw21DJGGemRmdGN9eQe", "ab2")
}

/// Real user-stream events (ids made ours, so every field is checked).
fn user_corpus() -> Vec<String> {
    captures("user_stream_event")
        .iter()
        .map(|(_, b)| as_ours(b))
        .collect()
}

/// Every USD-M user-data event Binance documents (`doc-examples`), with
/// what it becomes and, for those that become nothing, why.
#[test]
fn every_documented_user_event_is_parsed_or_ignored_on_purpose() {
    let dir = data("doc-examples/Subscriptions/UsdFutures");
    let doc = |f: &str| doc_payload(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
    let cases: [(&str, UserMessage, &str); 9] = [
        (
            "AccountUpdate.txt",
            UserMessage::Account(1),
            "the one-way BTCUSDT row",
        ),
        (
            "OrderUpdate.txt",
            UserMessage::Foreign,
            "client id TEST is not ours",
        ),
        (
            "TradeUpdate.txt",
            UserMessage::Ignored,
            "TRADE_LITE repeats ORDER_TRADE_UPDATE's fills without commission or status",
        ),
        (
            "MarginUpdate.txt",
            UserMessage::Ignored,
            "MARGIN_CALL of a hedge-mode ETHUSDT position: not one of ours",
        ),
        (
            "Leverage.txt",
            UserMessage::Leverage(25),
            "ACCOUNT_CONFIG_UPDATE of BTCUSDT: checked against the configured leverage",
        ),
        (
            "MultiAssetMode.txt",
            UserMessage::Ignored,
            "ACCOUNT_CONFIG_UPDATE: multi-assets mode",
        ),
        (
            "AlgoOrderUpdate.txt",
            UserMessage::Foreign,
            "ALGO_UPDATE of a conditional order another client placed (ours carry our \
             client id and become order updates: binance::algo)",
        ),
        (
            "ConditionalTrigger.txt",
            UserMessage::Ignored,
            "CONDITIONAL_ORDER_TRIGGER_REJECT: retired with the Algo Order API \
             (2025-12); a refused trigger now arrives as ALGO_UPDATE REJECTED",
        ),
        (
            "GridUpdate.txt",
            UserMessage::Ignored,
            "GRID_UPDATE: Binance's own trading bots",
        ),
    ];
    for (file, want, why) in cases {
        let (r, evs) = user(&doc(file));
        assert_eq!(r, Ok(want), "{file}: {why}");
        assert_eq!(
            evs.is_empty(),
            matches!(
                want,
                UserMessage::Ignored | UserMessage::Foreign | UserMessage::Leverage(_)
            ),
            "{file}"
        );
    }
    let (r, _) = user(&doc("StrategyUpdate.txt"));
    assert_eq!(
        r,
        Ok(UserMessage::Ignored),
        "STRATEGY_UPDATE: Binance's own bots"
    );
    // The documented margin call, for a one-way position of ours.
    let ours = doc("MarginUpdate.txt")
        .replace("\"LONG\"", "\"BOTH\"")
        .replace("ETHUSDT", "SOLUSDT");
    let (r, evs) = user(&ours);
    assert_eq!(r, Ok(UserMessage::Account(1)));
    let InputBody::AccountUpdate(a) = evs[0].body else {
        panic!()
    };
    assert_eq!(a.reason, autobot_engine::event::AccountReason::MarginCall);
}
