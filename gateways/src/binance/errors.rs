//! Binance USD-M error codes: one table from code to what the engine does
//! ([`ErrorAction`]) and how the core classifies the refusal
//! ([`RejectReason`]). By code, never by message text: Binance words the
//! same code several ways, and sends some codes with more than one HTTP
//! status, so a row holds whatever the status.
//!
//! A code not in the table is handled conservatively by its HTTP status
//! (5xx: the outcome is unknown, the order is queried; 4xx: refused) and
//! logged once with its text by the execution client, so it can be added.

use autobot_engine::event::RejectReason;

/// What the engine does about an error response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorAction {
    /// -1021: our timestamp is outside recvWindow; resync the clock
    /// offset from `/fapi/v1/time`, then retry.
    ResyncClock,
    /// Too many requests or a busy server (-1003, -1004, -1008, -1015,
    /// -1016, HTTP 429 or 418 = banned): back off for `Retry-After` (or the
    /// default) before any other request.
    BackOff,
    /// Margin, account limits, liquidation mode: reject the order and alert.
    RejectAndAlert,
    /// A filter, parameter or auth error: reject the order; retrying the
    /// same request cannot succeed.
    Reject,
    /// A server-side or transport failure (5xx, -1000, -1001, -1007):
    /// the outcome is unknown; query before retrying an order.
    Unknown,
}

/// One code's handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRow {
    /// The code.
    pub code: i64,
    /// Binance's name for it.
    pub name: &'static str,
    /// What the engine does.
    pub action: ErrorAction,
    /// The core's classification of the refused order.
    pub reason: RejectReason,
}

const fn row(code: i64, name: &'static str, action: ErrorAction, reason: RejectReason) -> ErrorRow {
    ErrorRow {
        code,
        name,
        action,
        reason,
    }
}

use ErrorAction::{BackOff, Reject, RejectAndAlert, ResyncClock, Unknown};
use RejectReason::{
    AccountLimit, Auth, ClockSkew, Filter, InsufficientMargin, Liquidating, NoLiquidity, Other,
    RateLimited,
};

/// Every code the engine knows, in code order (descending: -1000 first).
pub const ERRORS: [ErrorRow; 63] = [
    // 10xx: general server or network issues.
    row(-1000, "UNKNOWN", Unknown, Other),
    row(-1001, "DISCONNECTED", Unknown, Other),
    row(-1002, "UNAUTHORIZED", Reject, Auth),
    row(-1003, "TOO_MANY_REQUESTS", BackOff, RateLimited),
    row(-1004, "SERVER_BUSY", BackOff, RateLimited),
    row(-1005, "NO_SUCH_IP", Reject, Auth),
    row(-1006, "UNEXPECTED_RESP", Unknown, Other),
    row(-1007, "TIMEOUT", Unknown, Other),
    row(-1008, "SERVER_OVERLOADED", BackOff, RateLimited),
    row(-1010, "ERROR_MSG_RECEIVED", Unknown, Other),
    row(-1011, "NON_WHITE_LIST", Reject, Auth),
    row(-1013, "INVALID_MESSAGE", Reject, Filter),
    row(-1014, "UNKNOWN_ORDER_COMPOSITION", Reject, Other),
    row(-1015, "TOO_MANY_ORDERS", BackOff, RateLimited),
    row(-1016, "SERVICE_SHUTTING_DOWN", BackOff, RateLimited),
    row(-1020, "UNSUPPORTED_OPERATION", Reject, Other),
    row(-1021, "INVALID_TIMESTAMP", ResyncClock, ClockSkew),
    row(-1022, "INVALID_SIGNATURE", Reject, Auth),
    row(-1023, "START_TIME_GREATER_THAN_END_TIME", Reject, Other),
    row(-1099, "NOT_FOUND", Reject, Auth),
    // 11xx: request issues (a parameter the engine wrote wrong: retrying
    // the same request cannot succeed).
    row(-1100, "ILLEGAL_CHARS", Reject, Other),
    row(-1101, "TOO_MANY_PARAMETERS", Reject, Other),
    row(-1102, "MANDATORY_PARAM_EMPTY_OR_MALFORMED", Reject, Other),
    row(-1103, "UNKNOWN_PARAM", Reject, Other),
    row(-1104, "UNREAD_PARAMETERS", Reject, Other),
    row(-1105, "PARAM_EMPTY", Reject, Other),
    row(-1106, "PARAM_NOT_REQUIRED", Reject, Other),
    row(-1108, "BAD_ASSET", Reject, Other),
    row(-1109, "BAD_ACCOUNT", Reject, Auth),
    row(-1110, "BAD_INSTRUMENT_TYPE", Reject, Other),
    row(-1111, "BAD_PRECISION", Reject, Filter),
    row(-1112, "NO_DEPTH", Reject, NoLiquidity),
    row(-1114, "TIF_NOT_REQUIRED", Reject, Other),
    row(-1115, "INVALID_TIF", Reject, Other),
    row(-1116, "INVALID_ORDER_TYPE", Reject, Other),
    row(-1117, "INVALID_SIDE", Reject, Other),
    row(-1118, "EMPTY_NEW_CL_ORD_ID", Reject, Other),
    row(-1119, "EMPTY_ORG_CL_ORD_ID", Reject, Other),
    row(-1120, "BAD_INTERVAL", Reject, Other),
    row(-1121, "BAD_SYMBOL", Reject, Other),
    row(-1125, "INVALID_LISTEN_KEY", Reject, Auth),
    row(-1127, "MORE_THAN_XX_HOURS", Reject, Other),
    row(-1128, "OPTIONAL_PARAMS_BAD_COMBO", Reject, Other),
    row(-1130, "INVALID_PARAMETER", Reject, Other),
    // 20xx: processing issues.
    row(-2010, "NEW_ORDER_REJECTED", Reject, Filter),
    row(-2011, "CANCEL_REJECTED", Reject, Other),
    row(-2013, "NO_SUCH_ORDER", Reject, Other),
    row(-2014, "BAD_API_KEY_FMT", Reject, Auth),
    row(-2015, "REJECTED_MBX_KEY", Reject, Auth),
    row(-2016, "NO_TRADING_WINDOW", Reject, Other),
    row(
        -2018,
        "BALANCE_NOT_SUFFICIENT",
        RejectAndAlert,
        InsufficientMargin,
    ),
    row(
        -2019,
        "MARGIN_NOT_SUFFICIEN",
        RejectAndAlert,
        InsufficientMargin,
    ),
    row(-2020, "UNABLE_TO_FILL", Reject, NoLiquidity),
    row(-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER", Reject, Other),
    row(-2022, "REDUCE_ONLY_REJECT", Reject, Other),
    row(-2023, "USER_IN_LIQUIDATION", RejectAndAlert, Liquidating),
    row(-2024, "POSITION_NOT_SUFFICIENT", Reject, Other),
    row(
        -2025,
        "MAX_OPEN_ORDER_EXCEEDED",
        RejectAndAlert,
        AccountLimit,
    ),
    row(-2026, "REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED", Reject, Other),
    row(-2027, "MAX_LEVERAGE_RATIO", RejectAndAlert, AccountLimit),
    row(-2028, "MIN_LEVERAGE_RATIO", RejectAndAlert, AccountLimit),
    // 4xxx / 5xxx: filters and order parameters (by range below); the ones
    // named here say more than "filter".
    row(-5021, "FOK_ORDER_REJECT", Reject, NoLiquidity),
    row(-5022, "GTX_ORDER_REJECT", Reject, Other),
];

/// The row of `code`, if the engine knows it.
pub fn row_of(code: i64) -> Option<&'static ErrorRow> {
    ERRORS.iter().find(|r| r.code == code)
}

/// The action and reason for an error response with HTTP `status` and
/// Binance `code`.
pub fn classify(status: u16, code: Option<i64>) -> (ErrorAction, RejectReason) {
    // Rate limits and bans come as statuses before any code.
    if matches!(status, 418 | 429) {
        return (BackOff, RateLimited);
    }
    if let Some(r) = code.and_then(row_of) {
        return (r.action, r.reason);
    }
    match code {
        // Filter and order-parameter failures: refused, as a filter.
        Some(c) if (-4999..=-4000).contains(&c) => (Reject, Filter),
        Some(c) if (-5999..=-5000).contains(&c) => (Reject, Other),
        _ if status >= 500 => (Unknown, Other),
        _ if (400..500).contains(&status) => (Reject, Other),
        _ => (Unknown, Other),
    }
}

/// `true` when the engine has a row for `code` or a range that covers it
/// (so an error with it needs no "unknown code" log line).
pub fn is_known(code: i64) -> bool {
    row_of(code).is_some() || (-5999..=-4000).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row, at every status a response can carry, gives its own
    /// action and reason: the code decides, not the status.
    #[test]
    fn every_row_decides_whatever_the_status() {
        for r in &ERRORS {
            for status in [400, 401, 403, 404, 408, 500, 503] {
                assert_eq!(
                    classify(status, Some(r.code)),
                    (r.action, r.reason),
                    "{} {} at {status}",
                    r.code,
                    r.name
                );
            }
            assert!(is_known(r.code));
        }
    }

    #[test]
    fn the_table_has_one_row_per_code_in_order() {
        for w in ERRORS.windows(2) {
            assert!(w[0].code > w[1].code, "{} then {}", w[0].code, w[1].code);
        }
    }

    #[test]
    fn rate_limit_statuses_win_and_unknown_codes_are_conservative() {
        assert_eq!(classify(429, None), (BackOff, RateLimited));
        assert_eq!(classify(418, Some(-2019)), (BackOff, RateLimited));
        assert_eq!(classify(400, Some(-4164)), (Reject, Filter));
        assert_eq!(classify(400, Some(-5099)), (Reject, Other));
        // A code the table does not know: the status decides, and a 5xx
        // means the order may exist (it is queried before refusing).
        assert_eq!(classify(503, Some(-2099)), (Unknown, Other));
        assert_eq!(classify(400, Some(-2099)), (Reject, Other));
        assert_eq!(classify(502, None), (Unknown, Other));
        assert!(!is_known(-2099));
    }
}
