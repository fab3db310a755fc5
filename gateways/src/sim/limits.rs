//! Binance's rate limits as the simulator keeps them: the request weight
//! per minute (`X-MBX-USED-WEIGHT-1M`, for every request) and the new
//! orders per account per 10 s and per minute (`X-MBX-ORDER-COUNT-10S`,
//! `X-MBX-ORDER-COUNT-1M`, on every order request). Counted always;
//! enforced only when configured (`SimConfig::enforce_limits`): over the
//! weight, HTTP 429 -1003 with `Retry-After`; over an order count, HTTP 429
//! -1015, as Binance answers.
//!
//! Windows are the host's (real time), as Binance's are.

use std::time::{Duration, Instant};

use super::public::{ORDERS_PER_10S, ORDERS_PER_MINUTE, WEIGHT_LIMIT};

/// A count that restarts every `every`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    every: Duration,
    began: Instant,
    used: u32,
}

impl Window {
    /// A window of `every`, starting now.
    pub fn new(every: Duration) -> Window {
        Window {
            every,
            began: Instant::now(),
            used: 0,
        }
    }

    /// Adds `n` at `now`; the count in the current window.
    pub fn add(&mut self, n: u32, now: Instant) -> u32 {
        if now.duration_since(self.began) >= self.every {
            self.began = now;
            self.used = 0;
        }
        self.used = self.used.saturating_add(n);
        self.used
    }

    /// Seconds until the window restarts (at least 1).
    pub fn retry_after(&self, now: Instant) -> u32 {
        let left = self.every.saturating_sub(now.duration_since(self.began));
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        u32::try_from(secs).unwrap_or(u32::MAX).max(1)
    }
}

/// One account's new-order counts.
#[derive(Clone, Copy, Debug)]
pub struct OrderCount {
    ten_secs: Window,
    minute: Window,
}

impl Default for OrderCount {
    fn default() -> OrderCount {
        OrderCount {
            ten_secs: Window::new(Duration::from_secs(10)),
            minute: Window::new(Duration::from_secs(60)),
        }
    }
}

/// Why a request is over a limit: HTTP status, code, message, seconds.
pub type OverLimit = (u16, i32, &'static str, u32);

impl OrderCount {
    /// Counts a new order; (per 10 s, per minute) and, when `enforce` and
    /// over either, the refusal.
    pub fn add(&mut self, enforce: bool, now: Instant) -> ((u32, u32), Option<OverLimit>) {
        let counts = (self.ten_secs.add(1, now), self.minute.add(1, now));
        let over = if counts.0 > ORDERS_PER_10S {
            Some((
                429,
                -1015,
                "Too many new orders; current limit is 300 orders per TEN_SECONDS.",
                self.ten_secs.retry_after(now),
            ))
        } else if counts.1 > ORDERS_PER_MINUTE {
            Some((
                429,
                -1015,
                "Too many new orders; current limit is 1200 orders per MINUTE.",
                self.minute.retry_after(now),
            ))
        } else {
            None
        };
        (counts, over.filter(|_| enforce))
    }
}

/// The weight of a request over the limit, when enforced.
pub fn over_weight(used: u32, enforce: bool, window: &Window, now: Instant) -> Option<OverLimit> {
    (enforce && used > WEIGHT_LIMIT).then(|| {
        (
            429,
            -1003,
            "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.",
            window.retry_after(now),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_counts_restart_with_their_windows_and_refuse_only_when_enforced() {
        let mut c = OrderCount::default();
        let t0 = Instant::now();
        for k in 1..=300 {
            assert_eq!(c.add(true, t0), ((k, k), None));
        }
        let (counts, over) = c.add(true, t0);
        assert_eq!(counts, (301, 301));
        let (status, code, msg, retry) = over.unwrap();
        assert_eq!((status, code, retry), (429, -1015, 10));
        assert!(msg.contains("300 orders per TEN_SECONDS"), "{msg}");
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            c.add(true, later).0,
            (1, 302),
            "a new ten seconds, the same minute"
        );
        let mut lenient = OrderCount::default();
        for _ in 0..400 {
            assert_eq!(lenient.add(false, t0).1, None, "counted, not enforced");
        }
        let w = Window::new(Duration::from_secs(60));
        assert!(over_weight(2401, true, &w, t0).is_some_and(|o| o.1 == -1003));
        assert!(over_weight(2400, true, &w, t0).is_none());
        assert!(over_weight(5000, false, &w, t0).is_none());
    }
}
