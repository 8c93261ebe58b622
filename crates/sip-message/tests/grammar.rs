//! URI, name-addr, Via and CSeq grammar (RFC 3261 §19.1, §20, §25.1), including
//! IPv6 references (RFC 5118 style) and escapes.

use dialtone_sip_message::{CSeq, Method, NameAddr, Scheme, Uri, Via};

#[test]
fn sip_uri_components() {
    let u = Uri::parse(
        "sips:alice:secret@atlanta.example.com:5061;transport=tls;lr?subject=x&priority=urgent",
    )
    .unwrap();
    assert_eq!(u.scheme, Scheme::Sips);
    assert_eq!(u.user.as_deref(), Some("alice"));
    assert_eq!(u.password.as_deref(), Some("secret"));
    assert_eq!(u.host, "atlanta.example.com");
    assert_eq!(u.port, Some(5061));
    assert_eq!(u.transport(), Some("tls"));
    assert_eq!(u.param("LR"), Some(None));
    assert_eq!(u.param("maddr"), None);
    assert_eq!(u.headers.len(), 2);
    assert_eq!(
        u.to_string(),
        "sips:alice:secret@atlanta.example.com:5061;transport=tls;lr?subject=x&priority=urgent"
    );
    assert_eq!(Uri::parse("SIP:bob@h").unwrap().scheme, Scheme::Sip);
}

#[test]
fn ipv6_references_in_uris() {
    let u = Uri::parse("sip:[2001:db8::10]:5070;maddr=[2001:db8::20]").unwrap();
    assert_eq!(u.host, "[2001:db8::10]");
    assert_eq!(u.port, Some(5070));
    assert_eq!(u.param("maddr"), Some(Some("[2001:db8::20]")));
    assert_eq!(
        u.to_string(),
        "sip:[2001:db8::10]:5070;maddr=[2001:db8::20]"
    );
    let u = Uri::parse("sip:user@[::1]").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("[::1]", None));
    for bad in [
        "sip:[::1",
        "sip:[zz::1]",
        "sip:[::1]x",
        "sip:::1",
        "sip:[::1]:",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn ipv6_references_in_via() {
    let vias = Via::parse_list(
        "SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=[2001:db8::9:255];rport=5061, \
         SIP/2.0/TCP [::1];branch=z9hG4bK2",
    )
    .unwrap();
    assert_eq!(vias[0].host, "[2001:db8::9:1]");
    assert_eq!(vias[0].port, Some(5060));
    assert_eq!(vias[0].received(), Some("[2001:db8::9:255]"));
    assert_eq!(vias[0].rport(), Some(Some(5061)));
    assert_eq!(vias[1].host, "[::1]");
    assert_eq!(vias[1].port, None);
    assert_eq!(
        vias[0].to_string(),
        "SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=[2001:db8::9:255];rport=5061"
    );
}

#[test]
fn via_lws_params_and_errors() {
    let v =
        &Via::parse_list("SIP / 2.0 / ws  client.invalid ; branch = z9hG4bKx ; rport").unwrap()[0];
    assert_eq!(v.transport, "WS");
    assert_eq!(v.host, "client.invalid");
    assert_eq!(v.branch(), Some("z9hG4bKx"));
    assert_eq!(v.rport(), Some(None));
    let mut v = v.clone();
    v.set_param("rport", Some("5060"));
    v.set_param("received", Some("192.0.2.1"));
    assert_eq!(
        v.to_string(),
        "SIP/2.0/WS client.invalid;branch=z9hG4bKx;rport=5060;received=192.0.2.1"
    );
    let v2 = Via::parse_list("SIP/2.0/UDP host : 5060;branch=z9hG4bKp").unwrap();
    assert_eq!(v2[0].port, Some(5060));
    for bad in [
        "SIP/2.0/UDP",
        "SIP/2.0 UDP h",
        "SIP/3.0/UDP h",
        "SIP/2.0/UDP h;;branch=x",
        "SIP/2.0/UDP h,",
        "SIP/2.0/UDP h;rport=abc",
        "SIP/2.0/UDP h:99999",
        "SIP/2.0/UDPh",
    ] {
        assert!(Via::parse_list(bad).is_err(), "{bad}");
    }
    let built = Via::new("tls", "192.0.2.4", Some(5061), "z9hG4bKnew");
    assert_eq!(
        built.to_string(),
        "SIP/2.0/TLS 192.0.2.4:5061;branch=z9hG4bKnew"
    );
}

#[test]
fn escapes_are_kept_and_validated() {
    let u = Uri::parse("sip:%61lice@h;p=%41").unwrap();
    assert_eq!(u.user.as_deref(), Some("%61lice"));
    assert_eq!(u.param("p"), Some(Some("%41")));
    for bad in [
        "sip:%6@h",
        "sip:%zz@h",
        "sip:a b@h",
        "sip:h;p=%4",
        "sip:@h",
        "sip:h;",
        "sip:h;=v",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn other_schemes_are_opaque() {
    let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
    assert_eq!(u.scheme, Scheme::Tel);
    assert_eq!(
        u.opaque.as_deref(),
        Some("+1-201-555-0123;phone-context=example.com")
    );
    assert_eq!(
        u.to_string(),
        "tel:+1-201-555-0123;phone-context=example.com"
    );
    let u = Uri::parse("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6").unwrap();
    assert_eq!(u.scheme, Scheme::Other("urn".into()));
    assert!(Uri::parse("1abc:x").is_err());
    assert!(Uri::parse("noscheme").is_err());
    assert!(Uri::parse("http:").is_err());
}

#[test]
fn name_addr_forms() {
    let n = NameAddr::parse("\"Alice\" <sip:alice@a.example.com>;tag=88").unwrap();
    assert_eq!(n.display_name.as_deref(), Some("Alice"));
    assert_eq!(n.tag(), Some("88"));
    let n = NameAddr::parse("Bob Smith <sip:bob@b>").unwrap();
    assert_eq!(n.display_name.as_deref(), Some("Bob Smith"));
    let n = NameAddr::parse("sip:carol@c;tag=1").unwrap();
    assert_eq!(n.display_name, None);
    assert_eq!(n.tag(), Some("1"));
    assert!(
        n.uri.params.is_empty(),
        "unbracketed params belong to the header"
    );
    let n = NameAddr::parse("<sip:carol@c;transport=udp>;expires=30").unwrap();
    assert_eq!(n.uri.transport(), Some("udp"));
    assert_eq!(n.param("expires"), Some(Some("30")));
    let mut n = NameAddr::parse("<sip:[2001:db8::1]:5060>").unwrap();
    assert_eq!(n.uri.host, "[2001:db8::1]");
    n.set_tag("t1");
    n.set_tag("t2");
    assert_eq!(n.to_string(), "<sip:[2001:db8::1]:5060>;tag=t2");
    for bad in [
        "\"open <sip:a@b>",
        "<sip:a@b",
        "< sip:a@b>",
        "Bell, Alexander <sip:a@b>",
        "sip:a@b?x=y",
        "<sip:a@b>;",
        "<sip:a@b> junk",
        "",
    ] {
        assert!(NameAddr::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn display_round_trips() {
    for s in [
        "\"A \\\"quoted\\\" name\" <sip:a@b>;tag=x;q=\"1;2\"",
        "<sips:[::1]:5061;transport=tls?h=v>",
        "\"\" <tel:+123>",
    ] {
        let n = NameAddr::parse(s).unwrap();
        assert_eq!(NameAddr::parse(&n.to_string()).unwrap(), n, "{s}");
    }
}

#[test]
fn cseq_values() {
    let c = CSeq::parse(" 0010   REGISTER ").unwrap();
    assert_eq!((c.seq, c.method.clone()), (10, Method::Register));
    assert_eq!(c.to_string(), "10 REGISTER");
    assert_eq!(CSeq::parse("4294967295 X").unwrap().seq, u32::MAX);
    for bad in [
        "4294967296 INVITE",
        "-1 INVITE",
        "1",
        "INVITE",
        "1 INVITE x",
        "1 IN<VITE",
    ] {
        assert!(CSeq::parse(bad).is_err(), "{bad}");
    }
}
