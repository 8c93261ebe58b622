//! SIP account settings: the connection form as users of the original web Phone know it, and its validation.
//!
//! The UI and the CLI both produce an [`AccountForm`]; [`AccountForm::validate`] turns it into an [`Account`] or a
//! list of [`FieldError`]s naming the field and the problem in plain words, so a bad login is refused when it is
//! entered rather than leaving a call stuck in PENDING.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// SIP transport as chosen in the form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP (RFC 3261 §18); large requests switch to TCP by themselves.
    #[default]
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP (`sips:` style signaling).
    Tls,
    /// SIP over WebSocket (RFC 7118).
    Ws,
    /// SIP over secure WebSocket (RFC 7118).
    Wss,
}

impl Transport {
    /// Default port for this transport when the form leaves it empty.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }

    /// Lower-case name as used in URIs (`transport=tcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }
}

impl std::str::FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            "ws" => Ok(Transport::Ws),
            "wss" => Ok(Transport::Wss),
            other => Err(format!(
                "unknown transport \"{other}\"; use udp, tcp, tls, ws or wss"
            )),
        }
    }
}

/// The connection form, field for field. Empty strings mean "not given".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccountForm {
    /// Server address: a host, `host:port`, a SIP URI, or a WebSocket URL (`wss://pbx.example.com:8089/ws`).
    pub server_url: String,
    /// SIP login: the user part of our address of record.
    pub login: String,
    /// SIP auth name for digest authentication; the login when empty.
    pub auth_name: String,
    /// The password (never serialized back out).
    pub password: Secret,
    /// SIP domain of the address of record; the server's host when empty.
    pub domain: String,
    /// Outbound proxy as a SIP URI or `host[:port]`; all requests go there when set.
    pub outbound_proxy: String,
    /// Server port; the transport's default when absent.
    pub port: Option<u16>,
    /// Transport.
    pub transport: Transport,
    /// Whether to REGISTER. When off, calls are placed directly without registering.
    pub register_required: bool,
    /// Display name shown to the called party. Any text.
    pub display_name: String,
}

/// One problem with one form field, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field (`login`, `authName`, `serverUrl`, ...).
    pub field: &'static str,
    /// What is wrong, for the user.
    pub message: String,
}

/// A validated account, ready for the driver.
#[derive(Clone, Debug)]
pub struct Account {
    /// Our SIP login (user part of the AOR).
    pub login: String,
    /// Name used in digest authentication.
    pub auth_name: String,
    /// Password.
    pub password: Secret,
    /// Domain of our address of record.
    pub domain: String,
    /// Where requests go first: the outbound proxy if set, else the server.
    pub server: ServerAddress,
    /// Outbound proxy, when set (requests carry a `Route` to it).
    pub outbound_proxy: Option<ServerAddress>,
    /// Whether to REGISTER.
    pub register: bool,
    /// Display name (any text).
    pub display_name: String,
}

impl Account {
    /// The address of record, `sip:login@domain`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.login, self.domain)
    }

    /// Where requests are sent: the outbound proxy when there is one, else the server.
    pub fn next_hop(&self) -> &ServerAddress {
        self.outbound_proxy.as_ref().unwrap_or(&self.server)
    }
}

/// A host, port and transport (plus the HTTP path for WebSocket servers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Transport.
    pub transport: Transport,
    /// Path of the WebSocket URL (`/ws`), for WS/WSS.
    pub path: String,
}

impl ServerAddress {
    /// Parses `host`, `host:port`, `[v6]:port`, `sip:host[:port][;transport=x]`, or `ws[s]://host[:port][/path]`.
    /// `port` and `transport` from the form fill in what the text leaves out.
    pub fn parse(
        text: &str,
        port: Option<u16>,
        transport: Transport,
    ) -> Result<ServerAddress, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        let (mut transport, rest, mut path) = if let Some(rest) = strip_prefix_ci(text, "wss://") {
            (Transport::Wss, rest, String::from("/"))
        } else if let Some(rest) = strip_prefix_ci(text, "ws://") {
            (Transport::Ws, rest, String::from("/"))
        } else if let Some(rest) = strip_prefix_ci(text, "sips:") {
            (Transport::Tls, rest, String::new())
        } else if let Some(rest) = strip_prefix_ci(text, "sip:") {
            (transport, rest, String::new())
        } else if text.contains("://") {
            return Err(format!("\"{text}\" is not a SIP or WebSocket address (use host[:port], sip:host or wss://host/path)"));
        } else {
            (transport, text, String::new())
        };
        let mut hostport = rest;
        if matches!(transport, Transport::Ws | Transport::Wss) {
            if let Some(i) = rest.find('/') {
                path = rest[i..].to_string();
                hostport = &rest[..i];
            }
        } else if let Some(i) = rest.find(';') {
            for param in rest[i + 1..].split(';') {
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                if name.eq_ignore_ascii_case("transport") {
                    transport = value.parse()?;
                }
            }
            hostport = &rest[..i];
        }
        if let Some(at) = hostport.rfind('@') {
            hostport = &hostport[at + 1..];
        }
        let (host, text_port) = split_host_port(hostport)?;
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || "<>\"/\\?#".contains(c))
        {
            return Err(format!("\"{hostport}\" is not a valid host"));
        }
        let port = text_port.or(port).unwrap_or(transport.default_port());
        if port == 0 {
            return Err("port 0 is not a valid port".into());
        }
        Ok(ServerAddress {
            host,
            port,
            transport,
            path,
        })
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("\"{p}\" is not a port number (1-65535)");
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| format!("\"{s}\": IPv6 address is missing its closing ']'"))?;
        let host = rest[..end].to_string();
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad_port(p))?),
            None if after.is_empty() => None,
            None => return Err(format!("\"{s}\" is not a valid host")),
        };
        return Ok((host, port));
    }
    match s.rsplit_once(':') {
        Some((h, _)) if h.contains(':') => Ok((s.to_string(), None)), // bare IPv6
        Some((h, p)) => Ok((
            h.to_string(),
            Some(p.parse::<u16>().map_err(|_| bad_port(p))?),
        )),
        None => Ok((s.to_string(), None)),
    }
}

impl AccountForm {
    /// Checks every field and returns a ready [`Account`], or every problem found (not just the first).
    pub fn validate(&self) -> Result<Account, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &'static str, message: String| errors.push(FieldError { field, message });

        let login = self.login.trim().to_string();
        if login.is_empty() {
            err("login", "SIP login is required".into());
        } else if let Err(e) = dialtone_sip::validate::validate_user_part(&login) {
            err("login", format!("SIP login: {e}"));
        }
        let auth_name = if self.auth_name.trim().is_empty() {
            login.clone()
        } else {
            self.auth_name.trim().to_string()
        };
        if !self.auth_name.trim().is_empty() {
            if let Err(e) = dialtone_sip::validate::validate_auth_name(&self.auth_name) {
                err("authName", format!("SIP auth name: {e}"));
            }
        }
        let server = match ServerAddress::parse(&self.server_url, self.port, self.transport) {
            Ok(s) => Some(s),
            Err(e) => {
                err("serverUrl", format!("Server: {e}"));
                None
            }
        };
        let outbound_proxy = if self.outbound_proxy.trim().is_empty() {
            None
        } else {
            match ServerAddress::parse(
                &self.outbound_proxy,
                None,
                server.as_ref().map_or(self.transport, |s| s.transport),
            ) {
                Ok(p) => Some(p),
                Err(e) => {
                    err("outboundProxy", format!("Outbound proxy: {e}"));
                    None
                }
            }
        };
        let domain = self.domain.trim();
        let domain = if domain.is_empty() {
            server
                .as_ref()
                .map(|s| {
                    if s.host.contains(':') {
                        format!("[{}]", s.host)
                    } else {
                        s.host.clone()
                    }
                })
                .unwrap_or_default()
        } else {
            domain.to_string()
        };
        if domain
            .chars()
            .any(|c| c.is_whitespace() || "<>\"@;/\\".contains(c))
        {
            err(
                "domain",
                format!("SIP domain \"{domain}\" is not a valid host name"),
            );
        }
        if self.display_name.chars().any(|c| c.is_control()) {
            err(
                "displayName",
                "Display name must not contain control characters (line breaks, tabs)".into(),
            );
        }
        match (errors.is_empty(), server) {
            (true, Some(server)) => Ok(Account {
                login,
                auth_name,
                password: self.password.clone(),
                domain,
                server,
                outbound_proxy,
                register: self.register_required,
                display_name: self.display_name.trim().to_string(),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> AccountForm {
        AccountForm {
            server_url: "127.0.0.1:5070".into(),
            login: "alice".into(),
            register_required: true,
            ..Default::default()
        }
    }

    #[test]
    fn server_forms() {
        let p = |s| ServerAddress::parse(s, None, Transport::Udp);
        assert_eq!(p("pbx.example.com").unwrap().port, 5060);
        assert_eq!(
            p("sip:10.0.0.1:5080;transport=tcp").unwrap().transport,
            Transport::Tcp
        );
        let ws = p("wss://pbx.example.com:8089/ws").unwrap();
        assert_eq!(
            (ws.transport, ws.port, ws.path.as_str()),
            (Transport::Wss, 8089, "/ws")
        );
        assert_eq!(p("[::1]:5062").unwrap().host, "::1");
        assert!(p("http://x").is_err());
        assert!(p("host:99999").is_err());
        assert!(p("").is_err());
    }

    #[test]
    fn login_with_space_is_refused_with_field_name() {
        let mut f = form();
        f.login = "ali ce".into();
        let errs = f.validate().unwrap_err();
        assert_eq!(errs[0].field, "login");
        assert!(errs[0].message.contains("space"), "{}", errs[0].message);
    }

    #[test]
    fn login_with_angle_bracket_is_refused() {
        let mut f = form();
        f.login = "<alice>".into();
        assert_eq!(f.validate().unwrap_err()[0].field, "login");
    }

    #[test]
    fn display_name_may_be_any_text() {
        let mut f = form();
        f.display_name = "Zoë \"the <boss>\" Ünal".into();
        let a = f.validate().unwrap();
        assert_eq!(a.domain, "127.0.0.1");
        assert_eq!(a.aor(), "sip:alice@127.0.0.1");
        assert_eq!(a.auth_name, "alice");
    }
}
