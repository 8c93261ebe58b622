//! The RTP/RTCP socket pair of one call: RTP on an even port, RTCP on the next one
//! (RFC 3550 §11), both bound on the call's local address. With rtcp-mux (RFC 5761)
//! RTCP also arrives on the RTP socket; the RTCP socket stays bound anyway, in case a
//! re-INVITE turns multiplexing off.

use std::net::{IpAddr, SocketAddr};

use tokio::net::UdpSocket;

use super::AudioError;

/// Attempts at finding a free even/odd pair before giving up.
const ATTEMPTS: usize = 64;

/// The bound sockets of one call.
#[derive(Debug)]
pub(crate) struct PortPair {
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
}

impl PortPair {
    /// Binds a pair on `ip`: from `range` (inclusive) if given, else on ports the system
    /// picks.
    pub(crate) async fn bind(ip: IpAddr, range: Option<(u16, u16)>) -> Result<Self, AudioError> {
        let mut last_error = String::from("no even port with a free successor");
        match range {
            Some((low, high)) => {
                let first = low.saturating_add(low % 2);
                let mut port = first;
                while port < high {
                    match Self::bind_at(ip, port).await {
                        Ok(pair) => return Ok(pair),
                        Err(e) => last_error = e.to_string(),
                    }
                    port = port.saturating_add(2);
                }
                if first >= high {
                    last_error = format!("the range {low}-{high} holds no even/odd port pair");
                }
            }
            None => {
                for _ in 0..ATTEMPTS {
                    let rtp = UdpSocket::bind(SocketAddr::new(ip, 0))
                        .await
                        .map_err(|e| bind_error(ip, &e))?;
                    let port = rtp.local_addr().map_err(|e| bind_error(ip, &e))?.port();
                    if port % 2 != 0 || port == u16::MAX {
                        continue;
                    }
                    match UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                        Ok(rtcp) => return Ok(PortPair { rtp, rtcp }),
                        Err(e) => last_error = e.to_string(),
                    }
                }
            }
        }
        Err(AudioError::Bind {
            ip,
            reason: last_error,
        })
    }

    async fn bind_at(ip: IpAddr, port: u16) -> std::io::Result<Self> {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, port)).await?;
        let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await?;
        Ok(PortPair { rtp, rtcp })
    }

    /// The RTP socket's address (the port that goes into the SDP).
    pub(crate) fn local_rtp(&self) -> Result<SocketAddr, AudioError> {
        self.rtp.local_addr().map_err(|e| AudioError::Bind {
            ip: IpAddr::from([0, 0, 0, 0]),
            reason: e.to_string(),
        })
    }
}

fn bind_error(ip: IpAddr, e: &std::io::Error) -> AudioError {
    AudioError::Bind {
        ip,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_and_odd_and_released_on_drop() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let pair = PortPair::bind(ip, None).await.unwrap();
        let rtp = pair.rtp.local_addr().unwrap();
        let rtcp = pair.rtcp.local_addr().unwrap();
        assert_eq!(rtp.port() % 2, 0);
        assert_eq!(rtcp.port(), rtp.port() + 1);
        drop(pair);
        // Released: the same ports bind again.
        let again = PortPair::bind(ip, Some((rtp.port(), rtp.port() + 1)))
            .await
            .unwrap();
        assert_eq!(again.local_rtp().unwrap(), rtp);
    }

    #[tokio::test]
    async fn a_range_skips_taken_ports_and_fails_when_full() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let first = PortPair::bind(ip, None).await.unwrap();
        let port = first.local_rtp().unwrap().port();
        let next = PortPair::bind(ip, Some((port, port + 3))).await.unwrap();
        assert_eq!(next.local_rtp().unwrap().port(), port + 2);
        let err = PortPair::bind(ip, Some((port, port + 3)))
            .await
            .unwrap_err();
        assert!(matches!(err, AudioError::Bind { .. }), "{err}");
        let odd = PortPair::bind(ip, Some((port + 5, port + 5)))
            .await
            .unwrap_err();
        assert!(odd.to_string().contains("no even/odd port pair"), "{odd}");
    }
}
