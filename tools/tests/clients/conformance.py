"""Conformance of `autobot simexchange` with real Binance USD-M clients.

Runs ccxt's `binanceusdm` and Binance's official `binance-futures-connector`
against a simulator on loopback and checks the values they get back, not
just that no error was raised. Started by tools/tests/it/clients.rs, which
installs the pinned clients into a virtual environment and starts the
simulator with three accounts (keys file): alice (25000 USDT, leverage 10),
bob (the config's 10000 USDT), both HMAC, and carol (5000 USDT) with an
Ed25519 key.

    python conformance.py REST_URL WS_URL PING_SECS

Prints one line per case; exits non-zero on the first failure.
"""

import json
import sys
import time

import ccxt
import websocket
from binance.um_futures import UMFutures
from binance.error import ClientError

REST, WS, PING_SECS = sys.argv[1], sys.argv[2], float(sys.argv[3])
CAROL_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINWF1O3HA6Cd0lYgQGdcz8rroPeKGVi2WYs/c8Nsjt59
-----END PRIVATE KEY-----
"""
SYMBOL = "BTC/USDT:USDT"


def ccxt_client(key, secret):
    ex = ccxt.binanceusdm({
        "apiKey": key,
        "secret": secret,
        "enableRateLimit": False,
        "options": {"fetchMarkets": {"types": ["linear"]}},
    })
    for name, url in list(ex.urls["api"].items()):
        for host in ("https://fapi.binance.com", "https://api.binance.com",
                     "https://dapi.binance.com", "https://papi.binance.com",
                     "https://eapi.binance.com"):
            url = url.replace(host, REST)
        ex.urls["api"][name] = url
    return ex


def case(name, f):
    started = time.monotonic()
    try:
        f()
    except Exception:
        print(f"FAIL {name}")
        raise
    print(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)")


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


alice = ccxt_client("alice", "alice-secret")
bob = ccxt_client("bob", "bob-secret")
state = {}


def wait_for_market():
    # The synthetic market streams from the simulator's start: wait until
    # it has a book and a few candles' worth of trades.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        book = alice.fetch_order_book(SYMBOL, 5)
        if book["bids"] and book["asks"] and alice.fetch_trades(SYMBOL, limit=5):
            return
        time.sleep(0.2)
    raise AssertionError("the simulator's market never started")


def load_markets():
    markets = alice.load_markets()
    assert SYMBOL in markets, list(markets)
    m = markets[SYMBOL]
    assert (m["base"], m["quote"], m["settle"]) == ("BTC", "USDT", "USDT"), m
    assert m["linear"] and m["swap"] and m["contract"], m
    assert m["precision"]["price"] == 0.1 and m["precision"]["amount"] == 0.001, m["precision"]
    assert m["limits"]["amount"]["min"] == 0.001, m["limits"]
    assert m["limits"]["cost"]["min"] == 100, m["limits"]
    for t in ("limit", "market"):
        assert t in [x.lower() for x in m["info"]["orderTypes"]], m["info"]["orderTypes"]
    assert "IOC" in m["info"]["timeInForce"] and "GTX" in m["info"]["timeInForce"]


def order_book():
    book = alice.fetch_order_book(SYMBOL, 5)
    bids, asks = book["bids"], book["asks"]
    assert bids and asks, book
    assert bids[0][0] < asks[0][0], (bids[0], asks[0])
    assert all(bids[i][0] > bids[i + 1][0] for i in range(len(bids) - 1)), bids
    assert all(a[1] > 0 for a in asks), asks
    state["mid"] = (bids[0][0] + asks[0][0]) / 2


def ticker():
    t = alice.fetch_ticker(SYMBOL)
    assert t["last"] and close(t["last"], state["mid"], 0.01), (t["last"], state["mid"])
    assert t["high"] >= t["low"] > 0, t
    assert t["baseVolume"] > 0 and t["quoteVolume"] > t["baseVolume"], t
    prices = alice.fetch_tickers([SYMBOL])
    assert SYMBOL in prices


def trades():
    rows = alice.fetch_trades(SYMBOL, limit=20)
    assert 0 < len(rows) <= 20, len(rows)
    assert all(r["price"] > 0 and r["amount"] > 0 for r in rows), rows[:2]
    times = [r["timestamp"] for r in rows]
    assert times == sorted(times), "oldest first"


def ohlcv():
    candles = alice.fetch_ohlcv(SYMBOL, "1m", limit=5)
    assert 0 < len(candles) <= 5, candles
    for t, o, h, low, c, v in candles:
        assert t % 60_000 == 0 and h >= max(o, c) and low <= min(o, c) and v > 0, (t, o, h, low, c, v)
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)


def funding_rate():
    f = alice.fetch_funding_rate(SYMBOL)
    assert close(f["fundingRate"], 0.0001), f["fundingRate"]
    assert f["markPrice"] > 0 and close(f["markPrice"], state["mid"], 0.01), f
    assert f["fundingTimestamp"] % (8 * 3_600_000) == 0, f["fundingTimestamp"]


def balance():
    b = alice.fetch_balance()["USDT"]
    assert (b["total"], b["free"], b["used"]) == (25000.0, 25000.0, 0.0), b
    assert bob.fetch_balance()["USDT"]["total"] == 10000.0, "bob's own wallet"


def leverage():
    assert alice.fetch_leverage(SYMBOL)["longLeverage"] == 10, "from the keys file"
    alice.set_leverage(5, SYMBOL)
    assert alice.fetch_leverage(SYMBOL)["longLeverage"] == 5
    assert alice.fetch_leverage("ETH/USDT:USDT")["longLeverage"] == 10, "per symbol"
    assert bob.fetch_leverage(SYMBOL)["longLeverage"] == 3, "bob's is the config's"


def one_clock():
    # Every endpoint reports the market's time: the server's clock, the
    # last trade, the book and the candles agree (the synthetic market
    # starts when the simulator does, at one market second per second).
    server = alice.fetch_time()
    last_trade = alice.fetch_trades(SYMBOL, limit=1)[-1]["timestamp"]
    assert 0 <= server - last_trade < 5_000, (server, last_trade)
    assert abs(server - alice.milliseconds()) < 5_000, "the market started now"
    candle = alice.fetch_ohlcv(SYMBOL, "1m", limit=1)[-1][0]
    assert 0 <= server - candle < 60_000, (server, candle)


def market_order():
    o = alice.create_order(SYMBOL, "market", "buy", 0.01)
    assert o["status"] == "closed" and o["filled"] == 0.01, o
    headers = {k.lower(): v for k, v in alice.last_response_headers.items()}
    assert abs(o["timestamp"] - alice.fetch_time()) < 5_000, ("one clock", o["timestamp"])
    assert int(headers["x-mbx-order-count-10s"]) >= 1, headers
    assert int(headers["x-mbx-order-count-1m"]) >= int(headers["x-mbx-order-count-10s"]), headers
    assert int(headers["x-mbx-used-weight-1m"]) > 0, headers
    assert o["average"] and close(o["average"], state["mid"], 0.01), o["average"]
    state["entry"] = o["average"]
    state["market_id"] = o["id"]


def positions():
    p = [x for x in alice.fetch_positions([SYMBOL]) if x["contracts"]]
    assert len(p) == 1, p
    p = p[0]
    assert p["side"] == "long" and p["contracts"] == 0.01, p
    assert close(p["entryPrice"], state["entry"]), (p["entryPrice"], state["entry"])
    assert p["markPrice"] > 0 and p["notional"] > 0, p
    assert p["marginMode"] == "cross" and p["leverage"] == 5, p
    assert p["liquidationPrice"] is None or p["liquidationPrice"] < p["entryPrice"], p
    assert not [x for x in bob.fetch_positions([SYMBOL]) if x["contracts"]], "bob holds nothing"
    b = alice.fetch_balance()["USDT"]
    assert b["total"] < 25000.0 and b["used"] > 0, ("fees paid, margin used", b)


def limit_orders_and_cancel_all():
    below = round(state["mid"] * 0.97, 1)
    a = alice.create_order(SYMBOL, "limit", "buy", 0.01, below)
    b = alice.create_order(SYMBOL, "limit", "buy", 0.002, below, {"timeInForce": "GTX"})
    assert a["status"] == "open" and a["price"] == below and a["filled"] == 0, a
    ids = sorted(o["id"] for o in alice.fetch_open_orders(SYMBOL))
    assert ids == sorted([a["id"], b["id"]]), ids
    assert not bob.fetch_open_orders(SYMBOL), "bob's book is his own"
    alice.cancel_order(b["id"], SYMBOL)
    assert [o["id"] for o in alice.fetch_open_orders(SYMBOL)] == [a["id"]]
    alice.cancel_all_orders(SYMBOL)
    assert alice.fetch_open_orders(SYMBOL) == []
    history = {o["id"]: o["status"] for o in alice.fetch_orders(SYMBOL)}
    assert history[a["id"]] == "canceled" and history[state["market_id"]] == "closed", history


def my_trades():
    rows = alice.fetch_my_trades(SYMBOL)
    mine = [r for r in rows if r["order"] == state["market_id"]]
    assert len(mine) >= 1 and sum(r["amount"] for r in mine) == 0.01, rows
    assert all(r["fee"]["currency"] == "USDT" and r["fee"]["cost"] > 0 for r in mine), mine
    since = alice.fetch_my_trades(SYMBOL, since=mine[0]["timestamp"] + 1)
    assert all(r["timestamp"] > mine[0]["timestamp"] for r in since)


def order_types():
    book = alice.fetch_order_book(SYMBOL, 5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    # IOC below the bid: nothing to take, the order expires unfilled.
    o = alice.create_order(SYMBOL, "limit", "buy", 0.002, round(bid * 0.99, 1),
                           {"timeInForce": "IOC"})
    assert o["status"] == "expired" and o["filled"] == 0, o
    # FOK through the ask, smaller than the best level: filled whole.
    o = alice.create_order(SYMBOL, "limit", "buy", 0.002, round(ask * 1.01, 1),
                           {"timeInForce": "FOK"})
    assert o["status"] == "closed" and o["filled"] == 0.002, o
    # Reduce-only: a sell reducing the long fills; a buy would add: -2022.
    o = alice.create_order(SYMBOL, "market", "sell", 0.002, None, {"reduceOnly": True})
    assert o["status"] == "closed" and o["filled"] == 0.002 and o["reduceOnly"], o
    try:
        alice.create_order(SYMBOL, "market", "buy", 0.002, None, {"reduceOnly": True})
        raise AssertionError("a reduce-only order that adds was accepted")
    except ccxt.ExchangeError as e:
        assert "-2022" in str(e), e
    held = [x for x in alice.fetch_positions([SYMBOL]) if x["contracts"]][0]
    assert held["contracts"] == 0.01, held


def ed25519_account():
    carol = ccxt_client("carol", CAROL_PEM)
    assert carol.fetch_balance()["USDT"]["total"] == 5000.0
    o = carol.create_order(SYMBOL, "market", "sell", 0.002)
    assert o["status"] == "closed" and o["filled"] == 0.002, o
    p = [x for x in carol.fetch_positions([SYMBOL]) if x["contracts"]]
    assert len(p) == 1 and p[0]["side"] == "short", p
    # The same request signed with another Ed25519 key is refused.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    try:
        ccxt_client("carol", other).fetch_balance()
        raise AssertionError("a signature by another key was accepted")
    except ccxt.AuthenticationError as e:
        assert "-1022" in str(e), e


def connector():
    um = UMFutures(key="bob", secret="bob-secret", base_url=REST)
    assert abs(um.time()["serverTime"] - alice.milliseconds()) < 5_000
    info = um.exchange_info()
    btc = [s for s in info["symbols"] if s["symbol"] == "BTCUSDT"][0]
    assert btc["baseAsset"] == "BTC" and btc["marginAsset"] == "USDT", btc
    kinds = {f["filterType"] for f in btc["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL", "PERCENT_PRICE"} <= kinds
    assert float(um.mark_price("BTCUSDT")["markPrice"]) > 0
    assert float(um.ticker_price("BTCUSDT")["price"]) > 0
    depth = um.depth("BTCUSDT", limit=5)
    assert float(depth["bids"][0][0]) < float(depth["asks"][0][0])
    assert len(um.klines("BTCUSDT", "1m", limit=3)) > 0
    # An order without newClientOrderId: the exchange names it.
    o = um.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity=0.003,
                     newOrderRespType="RESULT")
    assert o["status"] == "FILLED" and o["executedQty"] == "0.003", o
    assert o["clientOrderId"] and float(o["avgPrice"]) > 0, o
    pos = [p for p in um.get_position_risk(symbol="BTCUSDT")]
    assert float(pos[0]["positionAmt"]) == -0.003, pos
    bal = [b for b in um.balance() if b["asset"] == "USDT"][0]
    assert float(bal["balance"]) < 10000 and float(bal["availableBalance"]) > 0, bal
    acct = um.account()
    assert float(acct["totalWalletBalance"]) == float(bal["balance"]), acct
    fills = um.get_account_trades(symbol="BTCUSDT")
    assert [t["orderId"] for t in fills] == [o["orderId"]], fills
    assert um.commission_rate(symbol="BTCUSDT")["takerCommissionRate"] == "0.0004"
    assert um.get_position_mode()["dualSidePosition"] is False
    try:
        um.change_margin_type(symbol="BTCUSDT", marginType="CROSSED")
        raise AssertionError("already cross")
    except ClientError as e:
        assert e.error_code == -4046, e
    for call in (lambda: um.change_margin_type(symbol="BTCUSDT", marginType="ISOLATED"),
                 lambda: um.change_position_mode(dualSidePosition="true")):
        try:
            call()
            raise AssertionError("the simulator keeps cross margin and one-way mode")
        except ClientError as e:
            assert e.error_code == -1000 and "keeps" in e.error_message, e
    try:
        UMFutures(key="bob", secret="wrong", base_url=REST).account()
        raise AssertionError("a wrong secret is refused")
    except ClientError as e:
        assert e.error_code == -1022, e
    assert um.new_listen_key()["listenKey"]


def filters():
    """Each symbol filter refuses as Binance does (the connector sends the
    values as given; ccxt would round them first)."""
    um = UMFutures(key="bob", secret="bob-secret", base_url=REST)
    mark = float(um.mark_price("BTCUSDT")["markPrice"])
    cases = [
        ({"type": "MARKET", "quantity": "0.0015"}, -1111,
         "Precision is over the maximum defined for this asset."),
        ({"type": "MARKET", "quantity": "0.001"}, -4164,
         "Order's notional must be no smaller than 100 (unless you choose reduce only)."),
        ({"type": "MARKET", "quantity": "500"}, -4005, "Quantity greater than max quantity."),
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
          "price": f"{mark:.2f}5"}, -1111, "Precision is over the maximum defined for this asset."),
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
          "price": f"{round(mark * 0.9, 1)}"}, -4024, "Limit price can't be lower than "),
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
          "price": f"{round(mark * 1.1, 1)}"}, -4016, "Limit price can't be higher than "),
    ]
    for params, code, msg in cases:
        try:
            um.new_order(symbol="BTCUSDT", side="BUY", **params)
            raise AssertionError(f"accepted: {params}")
        except ClientError as e:
            assert e.status_code == 400 and e.error_code == code, (params, e.error_code, e.error_message)
            assert e.error_message.startswith(msg), (params, e.error_message)
    assert not um.get_orders(symbol="BTCUSDT"), "nothing refused rests"


def ws_connect(path):
    return websocket.create_connection(WS + path, timeout=10)


def next_json(ws, want=lambda m: True, within=10.0):
    """The next text frame (as JSON) for which `want` holds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            msg = json.loads(data)
            if want(msg):
                return msg
    raise AssertionError("no such message in time")


def ws_url_forms():
    raw = ws_connect("/ws/btcusdt@aggTrade")
    m = next_json(raw)
    assert m["e"] == "aggTrade" and m["s"] == "BTCUSDT" and "stream" not in m, m
    raw.close()
    combined = ws_connect("/stream?streams=btcusdt@bookTicker")
    m = next_json(combined)
    assert m["stream"] == "btcusdt@bookTicker" and m["data"]["e"] == "bookTicker", m
    assert float(m["data"]["b"]) < float(m["data"]["a"]), m
    combined.close()


def ws_live_subscribe():
    ws = ws_connect("/ws")
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}))
    assert next_json(ws, lambda m: "id" in m) == {"result": None, "id": 1}
    m = next_json(ws, lambda m: m.get("e") == "aggTrade")
    assert float(m["p"]) > 0, m
    ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
    assert next_json(ws, lambda m: m.get("id") == 3)["result"] == ["btcusdt@aggTrade"]
    ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 312}))
    assert next_json(ws, lambda m: m.get("id") == 312) == {"result": None, "id": 312}
    ws.settimeout(1.0)
    try:
        extra = ws.recv()
        raise AssertionError(f"a message after UNSUBSCRIBE: {extra}")
    except websocket.WebSocketTimeoutException:
        pass
    ws.settimeout(10)
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": "btcusdt@aggTrade", "id": 9}))
    assert next_json(ws, lambda m: m.get("id") == 9)["error"]["code"] == 2
    started = time.monotonic()
    ws.close()
    assert time.monotonic() - started < 2.5, "the close is echoed"


def ws_every_stream_kind():
    # The synthetic market streams tickers and aggregate trades; depth
    # diffs and partial depth, trades, klines and the mark are made from
    # them and the exchange model.
    kinds = ["btcusdt@depth@100ms", "btcusdt@depth5", "btcusdt@trade",
             "btcusdt@kline_1m", "btcusdt@markPrice@1s"]
    ws = ws_connect("/stream")
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": kinds, "id": 7}))
    assert next_json(ws, lambda m: m.get("id") == 7) == {"result": None, "id": 7}
    seen = {}
    diffs = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (len(seen) < len(kinds) or len(diffs) < 5):
        m = next_json(ws, lambda m: "stream" in m)
        seen.setdefault(m["stream"], m["data"])
        if m["stream"] == "btcusdt@depth@100ms":
            diffs.append(m["data"])
    assert set(seen) == set(kinds), sorted(seen)
    for a, b in zip(diffs, diffs[1:]):
        assert b["pu"] == a["u"] and b["U"] == a["u"] + 1, (a, b)
    d = diffs[-1]
    assert d["e"] == "depthUpdate" and d["b"] and d["a"], d
    part = seen["btcusdt@depth5"]
    assert float(part["b"][0][0]) < float(part["a"][0][0]), part
    t = seen["btcusdt@trade"]
    assert t["e"] == "trade" and float(t["p"]) > 0 and float(t["q"]) > 0, t
    k = seen["btcusdt@kline_1m"]["k"]
    assert k["i"] == "1m" and k["T"] - k["t"] == 59_999 and float(k["h"]) >= float(k["l"]), k
    mp = seen["btcusdt@markPrice@1s"]
    assert float(mp["p"]) > 0 and mp["T"] > mp["E"] and mp["r"] == "0.0001", mp
    # The diffs bridge the REST snapshot, as a client syncing a book needs.
    book = UMFutures(base_url=REST).depth("BTCUSDT", limit=5)
    last = book["lastUpdateId"]
    while True:
        m = next_json(ws, lambda m: m.get("stream") == "btcusdt@depth@100ms")["data"]
        if m["u"] > last:
            assert m["U"] <= last + 1 <= m["u"], (last, m)
            break
    ws.close()


def ws_kept_alive_by_pings():
    # The simulator pings every PING_SECS and drops a connection silent for
    # three of them; this client answers and pings itself, across five.
    ws = ws_connect("/ws/btcusdt@bookTicker")
    pongs = pings = 0
    deadline = time.monotonic() + 5 * PING_SECS
    next_ping = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() >= next_ping:
            ws.ping(b"keep")
            next_ping += PING_SECS / 2
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_PONG and data == b"keep":
            pongs += 1
        elif op == websocket.ABNF.OPCODE_PING:
            pings += 1
            ws.pong(data)
    assert pongs >= 8, f"our pings answered: {pongs}"
    assert pings >= 4, f"the server's pings: {pings}"
    assert next_json(ws)["e"] == "bookTicker", "still streaming"
    ws.close()


def ws_silent_client_is_dropped():
    # A connection that never reads answers no ping: it goes after three
    # intervals (Binance drops one after ten minutes without a pong). What
    # was sent before is still read, then the end.
    ws = ws_connect("/ws/btcusdt@bookTicker")
    time.sleep(4.5 * PING_SECS)
    ws.settimeout(2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            ws.recv()
        except websocket.WebSocketTimeoutException:
            raise AssertionError("open but silent: not dropped")
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return
    raise AssertionError("still streaming after going silent")


def user_stream():
    um = UMFutures(key="bob", secret="bob-secret", base_url=REST)
    key = um.new_listen_key()["listenKey"]
    raw = ws_connect(f"/ws/{key}")
    combined = ws_connect(f"/stream?streams={key}")
    o = um.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.003,
                     newClientOrderId="user-stream-1")
    fill = next_json(raw, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["X"] == "FILLED")
    assert fill["o"]["c"] == "user-stream-1" and fill["o"]["i"] == o["orderId"], fill
    assert fill["o"]["z"] == "0.003" and float(fill["o"]["ap"]) > 0, fill
    acct = next_json(raw, lambda m: m.get("e") == "ACCOUNT_UPDATE")
    assert acct["a"]["B"][0]["a"] == "USDT", acct
    wrapped = next_json(combined, lambda m: m.get("stream") == key and m["data"]["e"] == "ORDER_TRADE_UPDATE")
    assert wrapped["data"]["o"]["c"] == "user-stream-1", wrapped
    raw.close()
    combined.close()
    # Alice's stream hears nothing of Bob's orders.
    um_alice = UMFutures(key="alice", secret="alice-secret", base_url=REST)
    assert um_alice.new_listen_key()["listenKey"] != key


def place_conditional(kind, side, ticks, extra):
    """A conditional order `ticks` ticks from the last trade (above for a
    positive count); the market moves meanwhile, and a trigger it already
    passed is refused (-2021), as Binance refuses it, and placed again."""
    tick = 0.1
    for _ in range(20):
        last = alice.fetch_ticker(SYMBOL)["last"]
        stop = round(last + ticks * tick, 1)
        params = dict(extra, stopPrice=stop)
        price = params.pop("limit_offset", None)
        try:
            o = alice.create_order(SYMBOL, kind, side, params.pop("amount", 0.002),
                                   None if price is None else round(stop + price, 1), params)
            return o, stop
        except ccxt.ExchangeError as e:
            assert "-2021" in str(e), e
    raise AssertionError("every conditional order was refused")


def wait_for_fill(side, amount, since):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for t in alice.fetch_my_trades(SYMBOL, limit=50):
            if t["amount"] == amount and t["side"] == side and t["timestamp"] >= since:
                return t
        time.sleep(0.1)
    raise AssertionError(f"no {side} {amount} fill: the order never triggered")


def stops_that_trigger():
    # STOP_MARKET: a buy stop a few ticks above the last trade; the random
    # walk crosses it and it buys at the ask.
    o, stop = place_conditional("STOP_MARKET", "buy", 3, {})
    filled = wait_for_fill("buy", 0.002, o["timestamp"] - 1)
    assert filled["price"] >= stop - 1.0, (filled, stop)
    # STOP (stop-limit): triggered, a limit 10 USDT through the stop takes.
    o, stop = place_conditional("STOP", "buy", 3, {"limit_offset": 10.0, "amount": 0.003})
    filled = wait_for_fill("buy", 0.003, o["timestamp"] - 1)
    assert stop - 1.0 <= filled["price"] <= stop + 10.0, (filled, stop)
    # TAKE_PROFIT_MARKET closing the whole long above the market.
    held = [x for x in alice.fetch_positions([SYMBOL]) if x["contracts"]][0]["contracts"]
    o, stop = place_conditional("TAKE_PROFIT_MARKET", "sell", 3, {"closePosition": True})
    wait_for_fill("sell", held, o["timestamp"] - 1)
    assert not [x for x in alice.fetch_positions([SYMBOL]) if x["contracts"]], "closed"


case("wait for the market", wait_for_market)
case("ccxt load_markets", load_markets)
case("ccxt order book", order_book)
case("ccxt ticker", ticker)
case("ccxt trades", trades)
case("ccxt OHLCV", ohlcv)
case("ccxt funding rate", funding_rate)
case("ccxt balance (two accounts)", balance)
case("ccxt leverage", leverage)
case("one clock (server time, trades, candles)", one_clock)
case("ccxt market order", market_order)
case("ccxt positions", positions)
case("ccxt limit orders, cancel, cancel-all, order history", limit_orders_and_cancel_all)
case("ccxt my trades", my_trades)
case("ccxt IOC, FOK, reduce-only", order_types)
case("ccxt with an Ed25519 key", ed25519_account)
case("binance-futures-connector", connector)
case("filters (connector)", filters)
case("WebSocket /ws/<stream> and /stream?streams=", ws_url_forms)
case("WebSocket bare /ws with SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE, close", ws_live_subscribe)
case("WebSocket every stream kind (depth, partial depth, trade, kline, markPrice)", ws_every_stream_kind)
case("WebSocket kept alive by client pings across five intervals", ws_kept_alive_by_pings)
case("WebSocket silent client dropped", ws_silent_client_is_dropped)
case("user-data stream (raw and combined)", user_stream)
case("STOP_MARKET, STOP and TAKE_PROFIT_MARKET (closePosition) that trigger (ccxt, Algo Order API)",
     stops_that_trigger)
print("all cases passed")
