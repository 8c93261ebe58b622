//! The slow half of a bridged call's setup, run in tasks off the relay's driver: binding
//! ports, creating peer connections and gathering their candidates (JSEP, RFC 8829 §5), and
//! applying the browser's answer. Each finishes with one [`SetupDone`] back to the driver.

use std::net::IpAddr;

use dialtone_sdp::PendingOffer;
use tokio::sync::mpsc;

use crate::webrtc::{MediaFormat, PeerEvent, PlainLeg, PlainMedia, WebRtcError, WebRtcPeer};

/// A WebRTC peer connection and its event stream.
pub(crate) type Peer = (WebRtcPeer, mpsc::UnboundedReceiver<PeerEvent>);

/// Everything a browser-calls-phone bridge needs before leg B is called.
pub(crate) struct FromBrowser {
    /// The plain leg, with our offer pending.
    pub plain: PlainLeg,
    /// Our plain-RTP offer (leg B's INVITE body).
    pub offer: String,
    /// Its token.
    pub pending: PendingOffer,
    /// The browser's peer connection, its offer already answered.
    pub peer: Peer,
    /// Our WebRTC answer (leg A's 200 body).
    pub answer: String,
    /// The negotiated Opus format.
    pub format: MediaFormat,
}

/// Everything a phone-calls-browser bridge needs before leg B is called.
pub(crate) struct ToBrowser {
    /// The plain leg, the phone's offer answered.
    pub plain: PlainLeg,
    /// Our plain-RTP answer (leg A's 200 body).
    pub answer: String,
    /// The settled plain media.
    pub media: PlainMedia,
    /// One peer connection and WebRTC offer per browser target, in target order.
    pub offers: Vec<Result<(Peer, String), WebRtcError>>,
}

/// What a setup task hands back.
pub(crate) enum SetupDone {
    /// Ready to call the phone.
    FromBrowser(Result<Box<FromBrowser>, WebRtcError>),
    /// Ready to call the browsers.
    ToBrowser(Result<Box<ToBrowser>, WebRtcError>),
    /// The browser's answer on branch `branch` was applied.
    Accepted {
        /// The branch that answered.
        branch: usize,
        /// Its peer connection and Opus format.
        result: Result<(Peer, MediaFormat), WebRtcError>,
    },
}

/// A browser calls a phone: answer the browser's `offer`, bind the plain leg and make its offer.
pub(crate) async fn from_browser(
    ip: IpAddr,
    offer: String,
    session_id: u64,
    ssrc: u32,
) -> Result<Box<FromBrowser>, WebRtcError> {
    let mut plain = PlainLeg::bind(ip, session_id).await?;
    let (plain_offer, pending) = plain.create_offer()?;
    let (peer, events) = WebRtcPeer::new(ip, ssrc).await?;
    let answer = match peer.answer(&offer).await {
        Ok(answer) => answer,
        Err(e) => {
            peer.close().await;
            return Err(e);
        }
    };
    let format = peer.format().await?;
    Ok(Box::new(FromBrowser {
        plain,
        offer: plain_offer,
        pending,
        peer: (peer, events),
        answer,
        format,
    }))
}

/// A phone calls `browsers` browsers: answer the phone's `offer` on a new plain leg and make one
/// WebRTC offer per browser.
pub(crate) async fn to_browser(
    ip: IpAddr,
    offer: Vec<u8>,
    session_id: u64,
    ssrcs: Vec<u32>,
) -> Result<Box<ToBrowser>, WebRtcError> {
    let mut plain = PlainLeg::bind(ip, session_id).await?;
    let (answer, media) = plain.answer_offer(&offer)?;
    let mut offers = Vec::new();
    for ssrc in ssrcs {
        let made = async {
            let (peer, events) = WebRtcPeer::new(ip, ssrc).await?;
            match peer.offer().await {
                Ok(sdp) => Ok(((peer, events), sdp)),
                Err(e) => {
                    peer.close().await;
                    Err(e)
                }
            }
        };
        offers.push(made.await);
    }
    Ok(Box::new(ToBrowser {
        plain,
        answer,
        media,
        offers,
    }))
}

/// Applies a browser's `answer` to the peer connection that made the offer.
pub(crate) async fn accept(peer: Peer, answer: String) -> Result<(Peer, MediaFormat), WebRtcError> {
    if let Err(e) = peer.0.accept_answer(&answer).await {
        peer.0.close().await;
        return Err(e);
    }
    let format = peer.0.format().await?;
    Ok((peer, format))
}
