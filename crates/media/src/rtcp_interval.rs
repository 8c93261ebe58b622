//! The RTCP transmission interval (RFC 3550 §6.2, §6.3.1 and appendix A.7).
//!
//! Deterministic interval `Td` from the RTCP bandwidth share (5 % of the session
//! bandwidth, a quarter of it for senders when they are at most a quarter of the
//! members), the average compound size and the member count, with a minimum of 5 s
//! (2.5 s before the first report). The actual interval is `Td` times a random factor
//! uniform in [0.5, 1.5]. Timer reconsideration (§6.3.3) only matters for large groups;
//! a two-party call never has more than two members, so this crate does not apply it nor
//! the `e - 3/2` compensation that goes with it.

use std::time::Duration;

use crate::random::Random;

/// The inputs of one interval computation.
#[derive(Debug, Clone, Copy)]
pub struct IntervalInputs {
    /// Members of the session, ourselves included.
    pub members: u32,
    /// Members that sent RTP recently, ourselves included.
    pub senders: u32,
    /// Whether we are one of the senders.
    pub we_sent: bool,
    /// Session bandwidth in bits per second (`b=AS`, or the codec's rate).
    pub session_bandwidth: u32,
    /// Average compound RTCP packet size in octets, UDP and IP headers included.
    pub avg_rtcp_size: f64,
    /// True before our first report: the minimum is halved (§6.2).
    pub initial: bool,
    /// The minimum interval (5 s in RFC 3550).
    pub minimum: Duration,
}

/// The deterministic interval `Td` of appendix A.7 (before randomisation).
pub fn deterministic_interval(inputs: &IntervalInputs) -> Duration {
    let min = if inputs.initial {
        inputs.minimum / 2
    } else {
        inputs.minimum
    };
    // RTCP gets 5 % of the session bandwidth, in octets per second.
    let mut rtcp_bw = f64::from(inputs.session_bandwidth) / 8.0 * 0.05;
    let mut n = f64::from(inputs.members.max(1));
    let senders = f64::from(inputs.senders);
    if senders <= n * 0.25 {
        if inputs.we_sent {
            rtcp_bw *= 0.25;
            n = senders.max(1.0);
        } else {
            rtcp_bw *= 0.75;
            n = (n - senders).max(1.0);
        }
    }
    let t = if rtcp_bw > 0.0 {
        inputs.avg_rtcp_size * n / rtcp_bw
    } else {
        f64::INFINITY
    };
    let t = Duration::try_from_secs_f64(t).unwrap_or(Duration::from_secs(3600));
    t.clamp(min, Duration::from_secs(3600).max(min))
}

/// `Td` randomised by a factor uniform in [0.5, 1.5] (§6.3.1).
pub fn randomized_interval(inputs: &IntervalInputs, rng: &mut dyn Random) -> Duration {
    deterministic_interval(inputs).mul_f64(0.5 + rng.next_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Xorshift;

    fn two_party(initial: bool) -> IntervalInputs {
        IntervalInputs {
            members: 2,
            senders: 2,
            we_sent: true,
            session_bandwidth: 64_000,
            avg_rtcp_size: 100.0,
            initial,
            minimum: Duration::from_secs(5),
        }
    }

    #[test]
    fn two_party_call_uses_the_minimum() {
        assert_eq!(
            deterministic_interval(&two_party(false)),
            Duration::from_secs(5)
        );
        assert_eq!(
            deterministic_interval(&two_party(true)),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn low_bandwidth_stretches_the_interval() {
        let inputs = IntervalInputs {
            members: 40,
            senders: 1,
            we_sent: false,
            session_bandwidth: 8_000,
            ..two_party(false)
        };
        // 50 octets/s × 0.75 for 39 receivers of 100 octets: 104 s.
        let t = deterministic_interval(&inputs).as_secs_f64();
        assert!((t - 104.0).abs() < 0.1, "{t}");
    }

    #[test]
    fn randomisation_stays_within_half_and_one_and_a_half() {
        let mut rng = Xorshift::new(3);
        let (mut lo, mut hi) = (f64::MAX, 0.0f64);
        for _ in 0..2000 {
            let t = randomized_interval(&two_party(false), &mut rng).as_secs_f64();
            lo = lo.min(t);
            hi = hi.max(t);
        }
        assert!((2.5..2.6).contains(&lo), "{lo}");
        assert!((7.4..7.5).contains(&hi), "{hi}");
    }
}
