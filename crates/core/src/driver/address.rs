//! Addresses and settings derived from the account: our Contact, the outbound proxy's Route, the REGISTER
//! configuration (RFC 3261 §10.2), credentials, and what the user typed as a callee turned into a SIP URI
//! (RFC 3261 §19.1; `tel:` numbers per RFC 3966 as `user=phone` URIs at our domain).

use crate::account::{Account, ServerAddress, Transport};
use dialtone_sip::auth::Credentials;
use dialtone_sip::transport::Peer;
use dialtone_sip::ua::RegisterConfig;
use dialtone_sip_message::{Scheme, Uri};
use std::net::IpAddr;

use super::REGISTER_EXPIRES;

fn sip_uri(text: &str) -> Result<Uri, String> {
    Uri::parse(text).map_err(|e| e.to_string())
}

fn host_for_uri(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

pub(super) fn credentials(account: &Account) -> Option<Credentials> {
    (!account.password.is_empty()).then(|| {
        Credentials::new(
            account.auth_name.clone(),
            account.password.expose().to_string(),
        )
    })
}

pub(super) fn proxy_uri(proxy: &ServerAddress) -> Uri {
    let host = if proxy.host.contains(':') {
        format!("[{}]", proxy.host)
    } else {
        proxy.host.clone()
    };
    let mut uri = Uri::sip(None, &host, Some(proxy.port));
    if proxy.transport != Transport::Udp {
        uri.params
            .push(("transport".into(), Some(proxy.transport.as_str().into())));
    }
    uri.params.push(("lr".into(), None));
    uri
}

pub(super) fn contact_uri(account: &Account, ip: IpAddr, port: u16) -> Uri {
    let mut uri = Uri::sip(Some(&account.login), &host_for_uri(ip), Some(port));
    let t = account.next_hop().transport;
    if t != Transport::Udp {
        uri.params
            .push(("transport".into(), Some(t.as_str().into())));
    }
    uri
}

pub(super) fn register_config(
    account: &Account,
    ip: IpAddr,
    hop: Peer,
    port: u16,
) -> RegisterConfig {
    let domain = &account.domain;
    let registrar = Uri::sip(None, domain, None);
    let aor = Uri::sip(Some(&account.login), domain, None);
    let mut config = RegisterConfig::new(registrar, aor, contact_uri(account, ip, port), hop);
    config.credentials = credentials(account);
    config.expires = REGISTER_EXPIRES;
    config.outbound_proxy = account.outbound_proxy.as_ref().map(proxy_uri);
    config.display_name = (!account.display_name.is_empty()).then(|| account.display_name.clone());
    config
}

/// What the user typed in the callee field, as a SIP URI: `sip:`/`sips:` URIs as they are, `tel:` numbers and bare
/// users at our domain, `user@host` with `sip:` prepended.
pub(crate) fn callee_uri(target: &str, domain: &str) -> Result<Uri, String> {
    let target = target.trim();
    if target.is_empty() {
        return Err("nobody to call: the callee is empty".into());
    }
    let lower = target.to_ascii_lowercase();
    let text = if lower.starts_with("sip:") || lower.starts_with("sips:") {
        target.to_string()
    } else if let Some(number) = lower.strip_prefix("tel:").map(|_| &target[4..]) {
        let number: String = number
            .split(';')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !"-. ()".contains(*c))
            .collect();
        if number.is_empty()
            || !number
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '*' || c == '#')
        {
            return Err(format!("\"{target}\" is not a telephone number"));
        }
        format!("sip:{number}@{domain};user=phone")
    } else if target.contains('@') {
        format!("sip:{target}")
    } else {
        dialtone_sip::validate::validate_user_part(target).map_err(|e| e.to_string())?;
        format!("sip:{target}@{domain}")
    };
    let uri = sip_uri(&text)?;
    match uri.scheme {
        Scheme::Sip | Scheme::Sips => Ok(uri),
        _ => Err("only sip:, sips: and tel: addresses can be called".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callee_forms() {
        assert_eq!(
            callee_uri("bob", "example.com").unwrap().to_string(),
            "sip:bob@example.com"
        );
        assert_eq!(
            callee_uri("bob@10.0.0.1:5070", "x").unwrap().to_string(),
            "sip:bob@10.0.0.1:5070"
        );
        assert_eq!(
            callee_uri("tel:+1-555-0100", "pbx").unwrap().to_string(),
            "sip:+15550100@pbx;user=phone"
        );
        assert!(callee_uri("", "x").is_err());
        assert!(callee_uri("bo b", "x").is_err());
        assert!(callee_uri("tel:abc", "x").is_err());
    }
}
