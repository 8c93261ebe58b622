//! Account settings checks: SIP login per RFC 3261 §25.1 `user`, the looser auth-name rule, and
//! display-name quoting — with messages a user can act on.

use dialtone_sip::validate::{
    quote_display_name, validate_auth_name, validate_user_part, Field, UserPartError,
};

#[test]
fn ordinary_logins_pass() {
    for ok in [
        "alice",
        "+4930123456",
        "bob.smith_2",
        "a-b!c~d*e'f(g)h",
        "x&y=z+w$v,u;t?s/r",
        "caf%C3%A9",
        "100%25",
    ] {
        assert_eq!(validate_user_part(ok), Ok(()), "{ok}");
    }
}

#[test]
fn space_is_named_with_its_position() {
    let err = validate_user_part("alice smith").unwrap_err();
    assert_eq!(
        err,
        UserPartError::BadCharacter {
            field: Field::SipLogin,
            character: ' ',
            position: 6
        }
    );
    assert_eq!(
        err.to_string(),
        "SIP login contains a space at position 6; spaces are not allowed in a SIP user name"
    );
}

#[test]
fn reserved_and_unsafe_characters_are_refused() {
    for (bad, ch, pos) in [
        ("<alice", '<', 1),
        ("alice>", '>', 6),
        ("al\"ice", '"', 3),
        ("alice@example.com", '@', 6),
        ("alice:pw", ':', 6),
        ("a#b", '#', 2),
        ("a\tb", '\t', 2),
        ("é", 'é', 1),
        ("ab[", '[', 3),
    ] {
        match validate_user_part(bad) {
            Err(UserPartError::BadCharacter {
                character,
                position,
                ..
            }) => {
                assert_eq!((character, position), (ch, pos), "{bad:?}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let at = validate_user_part("alice@example.com")
        .unwrap_err()
        .to_string();
    assert!(at.contains("enter only the part before '@'"), "{at}");
    let e = validate_user_part("é").unwrap_err().to_string();
    assert!(e.contains("%C3%A9"), "{e}");
    let q = validate_user_part("al\"ice").unwrap_err().to_string();
    assert!(
        q.contains("double quote") && q.contains("position 3"),
        "{q}"
    );
}

#[test]
fn bare_percent_is_refused() {
    for (bad, pos) in [("100%", 4), ("a%2", 2), ("a%zz", 2), ("%%41", 1)] {
        assert_eq!(
            validate_user_part(bad),
            Err(UserPartError::BadEscape {
                field: Field::SipLogin,
                position: pos
            }),
            "{bad}"
        );
    }
    assert!(validate_user_part("100%")
        .unwrap_err()
        .to_string()
        .contains("%25"));
}

#[test]
fn empty_is_refused() {
    assert_eq!(
        validate_user_part("").unwrap_err().to_string(),
        "SIP login is empty; enter a user name"
    );
    assert!(validate_auth_name("").is_err());
}

#[test]
fn auth_name_is_looser_but_not_anything() {
    for ok in [
        "alice",
        "alice@example.com",
        "Alice Smith",
        "jürgen",
        "a:b<c>",
    ] {
        assert_eq!(validate_auth_name(ok), Ok(()), "{ok}");
    }
    assert_eq!(
        validate_auth_name(" alice"),
        Err(UserPartError::OuterSpace {
            field: Field::AuthName
        })
    );
    assert!(validate_auth_name("alice ").is_err());
    for (bad, ch, pos) in [
        ("a\"b", '"', 2),
        ("a\\b", '\\', 2),
        ("ab\n", '\n', 3),
        ("\u{7f}", '\u{7f}', 1),
    ] {
        assert_eq!(
            validate_auth_name(bad),
            Err(UserPartError::BadCharacter {
                field: Field::AuthName,
                character: ch,
                position: pos
            }),
            "{bad:?}"
        );
    }
    let msg = validate_auth_name("a\"b").unwrap_err().to_string();
    assert!(
        msg.starts_with("auth name contains a double quote"),
        "{msg}"
    );
}

#[test]
fn display_names_are_quoted_and_escaped() {
    assert_eq!(quote_display_name("Alice"), "\"Alice\"");
    assert_eq!(
        quote_display_name(r#"Al "the pal" \ B"#),
        r#""Al \"the pal\" \\ B""#
    );
}
