//! Small readings and one repair of WebRTC session descriptions as text (JSEP, RFC 8829):
//! is this a WebRTC offer (`UDP/TLS/RTP/SAVPF`, RFC 5764 §8), which payload type carries Opus
//! (RFC 7587 §7), and does an answer carry its BUNDLE group (RFC 8843 §7.3 — Chromium with
//! `bundlePolicy: 'max-bundle'` rejects an answer without one).

use dialtone_sdp::CodecName;

use super::conversion::{EventFormat, MediaFormat};

/// Whether an SDP body offers WebRTC media: an `m=` line with the `UDP/TLS/RTP/SAVPF`
/// profile (DTLS-SRTP, RFC 5764 §8).
pub fn is_webrtc_sdp(sdp: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(sdp) else {
        return false;
    };
    text.lines()
        .filter_map(|l| l.trim_end().strip_prefix("m="))
        .any(|m| {
            m.split_whitespace()
                .nth(2)
                .is_some_and(|proto| proto.eq_ignore_ascii_case("UDP/TLS/RTP/SAVPF"))
        })
}

/// The payload type of `encoding/clock` (e.g. `opus`, 48000) in the first audio section.
fn payload_type_of(sdp: &str, encoding: &str, clock: u32) -> Option<u8> {
    audio_section(sdp).find_map(|line| {
        let rest = line.strip_prefix("a=rtpmap:")?;
        let (pt, map) = rest.split_once(' ')?;
        let mut parts = map.trim().split('/');
        let name = parts.next()?;
        let rate: u32 = parts.next()?.parse().ok()?;
        (name.eq_ignore_ascii_case(encoding) && rate == clock)
            .then(|| pt.trim().parse().ok())
            .flatten()
    })
}

/// The lines of the first `m=audio` section.
fn audio_section(sdp: &str) -> impl Iterator<Item = &str> {
    sdp.lines()
        .map(str::trim_end)
        .skip_while(|l| !l.starts_with("m=audio"))
        .skip(1)
        .take_while(|l| !l.starts_with("m="))
}

fn fmtp_of(sdp: &str, pt: u8) -> Option<String> {
    let prefix = format!("a=fmtp:{pt} ");
    audio_section(sdp).find_map(|l| l.strip_prefix(prefix.as_str()).map(|v| v.trim().to_owned()))
}

/// The Opus format of a negotiated WebRTC session: the payload type from our own
/// description (what we send with), the `a=fmtp` from the peer's (what it wants to receive),
/// and telephone-event/48000 (RFC 4733, the Opus clock) when both descriptions carry it.
pub fn opus_format(local_sdp: &str, remote_sdp: &str) -> Option<MediaFormat> {
    let pt = payload_type_of(local_sdp, "opus", 48_000)?;
    let remote_pt = payload_type_of(remote_sdp, "opus", 48_000).unwrap_or(pt);
    let events = payload_type_of(local_sdp, "telephone-event", 48_000)
        .filter(|_| payload_type_of(remote_sdp, "telephone-event", 48_000).is_some())
        .map(|payload_type| EventFormat {
            payload_type,
            clock_rate: 48_000,
        });
    Some(MediaFormat::new(CodecName::Opus, pt, fmtp_of(remote_sdp, remote_pt)).with_events(events))
}

/// Returns `sdp` with a session-level `a=group:BUNDLE` naming every `a=mid` when it has none
/// (it goes before the first `m=` line). Descriptions without `a=mid` are returned as they are.
pub fn ensure_bundle(sdp: &str) -> String {
    if sdp
        .lines()
        .any(|l| l.trim_end().starts_with("a=group:BUNDLE"))
    {
        return sdp.to_owned();
    }
    let mids: Vec<&str> = sdp
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("a=mid:"))
        .collect();
    if mids.is_empty() {
        return sdp.to_owned();
    }
    let group = format!("a=group:BUNDLE {}\r\n", mids.join(" "));
    match sdp.find("\nm=") {
        Some(i) => format!("{}{}{}", &sdp[..=i], group, &sdp[i + 1..]),
        None => format!("{sdp}{group}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\nc=IN IP4 0.0.0.0\r\n\
        a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
        a=rtpmap:63 red/48000/2\r\na=rtpmap:0 PCMU/8000\r\n";

    #[test]
    fn webrtc_offers_are_told_from_plain_ones() {
        assert!(is_webrtc_sdp(CHROME_OFFER.as_bytes()));
        assert!(!is_webrtc_sdp(b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n"));
        assert!(!is_webrtc_sdp(b"v=0\r\nm=audio 4000 RTP/SAVPF 0\r\n"));
        assert!(!is_webrtc_sdp(&[0xff, 0xfe]));
    }

    #[test]
    fn opus_payload_type_and_the_peers_fmtp() {
        let local = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        let f = opus_format(local, CHROME_OFFER).unwrap();
        assert_eq!(f.payload_type, 111);
        assert_eq!(f.fmtp.as_deref(), Some("minptime=10;useinbandfec=1"));
        assert_eq!(f.events, None, "no telephone-event in either description");
        let with_events = |sdp: &str| {
            sdp.replace(
                "a=rtpmap:111 opus/48000/2\r\n",
                "a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\n\
                 a=rtpmap:126 telephone-event/8000\r\n",
            )
        };
        let f = opus_format(&with_events(local), &with_events(CHROME_OFFER)).unwrap();
        assert_eq!(
            f.events,
            Some(EventFormat {
                payload_type: 110,
                clock_rate: 48_000
            })
        );
        assert_eq!(
            opus_format(&with_events(local), CHROME_OFFER)
                .unwrap()
                .events,
            None
        );
        assert!(opus_format("v=0\r\nm=audio 9 RTP/AVP 0\r\n", CHROME_OFFER).is_none());
    }

    #[test]
    fn a_missing_bundle_group_is_added_before_the_first_media_section() {
        let answer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
        let fixed = ensure_bundle(answer);
        assert!(
            fixed.contains("t=0 0\r\na=group:BUNDLE 0\r\nm=audio"),
            "{fixed}"
        );
        assert_eq!(ensure_bundle(&fixed), fixed);
        assert_eq!(ensure_bundle(CHROME_OFFER), CHROME_OFFER);
    }
}
