//! `users.toml`: accepted shapes, clear errors naming the line or the user, and secrets that
//! never show in `Debug` output or error messages.

use dialtone_relay::{Users, UsersError, DEFAULT_REALM};
use dialtone_sip::auth::Algorithm;

#[test]
fn password_and_ha1_users_load() {
    let users = Users::from_toml(
        r#"
realm = "example.test"

[[user]]
name = "alice"
password = "wonderland"

[[user]]
name = "bob"
ha1 = "0123456789ABCDEF0123456789abcdef"
"#,
    )
    .expect("valid file");
    assert_eq!(users.realm(), "example.test");
    assert_eq!(users.names().collect::<Vec<_>>(), ["alice", "bob"]);
    assert!(users.contains("alice") && users.contains("bob") && !users.contains("carol"));
    // bob only has an MD5 HA1, so challenges may only offer MD5.
    assert_eq!(users.algorithms(), [Algorithm::Md5]);
}

#[test]
fn password_only_files_use_the_default_realm_and_both_algorithms() {
    let users = Users::from_toml("[[user]]\nname = \"alice\"\npassword = \"x\"\n").unwrap();
    assert_eq!(users.realm(), DEFAULT_REALM);
    assert_eq!(users.algorithms(), [Algorithm::Sha256, Algorithm::Md5]);
}

#[test]
fn empty_file_has_no_users() {
    let users = Users::from_toml("").unwrap();
    assert!(users.is_empty());
    assert_eq!(users.len(), 0);
}

#[test]
fn syntax_errors_name_the_line_and_column() {
    let err = Users::from_toml("[[user]]\nname = \"alice\"\npasword = \"x\"\n").unwrap_err();
    match &err {
        UsersError::Syntax { line, message, .. } => {
            assert_eq!(*line, 3, "{err}");
            assert!(message.contains("pasword"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("users.toml line 3"), "{err}");
}

#[test]
fn secrets_never_appear_in_error_messages() {
    // A number where a string is expected: toml's own message would quote the value.
    let err = Users::from_toml("[[user]]\nname = \"alice\"\npassword = 987654321\n").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("987654321"), "{text}");
    assert!(
        text.contains("password") && text.contains("line 3"),
        "{text}"
    );

    let err = Users::from_toml("[[user]]\nname = \"a\"\nha1 = 12345678901234\n").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("12345678901234"));
}

#[test]
fn debug_output_never_shows_passwords_or_ha1() {
    let users = Users::from_toml(
        "realm = \"r\"\n[[user]]\nname = \"alice\"\npassword = \"s3cr3t-pass\"\n\
         [[user]]\nname = \"bob\"\nha1 = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
    )
    .unwrap();
    let debug = format!("{users:?} {:?}", users.get("alice").unwrap());
    assert!(!debug.contains("s3cr3t-pass"), "{debug}");
    assert!(!debug.contains("aaaaaaaa"), "{debug}");
    assert!(
        debug.contains("alice") && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn each_mistake_has_its_own_error() {
    let cases: [(&str, UsersError); 8] = [
        (
            "[[user]]\nname = \"alice\"\n",
            UsersError::NoSecret("alice".into()),
        ),
        (
            "realm = \"r\"\n[[user]]\nname = \"alice\"\npassword = \"x\"\nha1 = \"00000000000000000000000000000000\"\n",
            UsersError::BothSecrets("alice".into()),
        ),
        (
            "[[user]]\nname = \"alice\"\npassword = \"x\"\n[[user]]\nname = \"alice\"\npassword = \"y\"\n",
            UsersError::Duplicate("alice".into()),
        ),
        (
            "[[user]]\nname = \"al ice\"\npassword = \"x\"\n",
            UsersError::InvalidName("al ice".into()),
        ),
        (
            "[[user]]\nname = \"\"\npassword = \"x\"\n",
            UsersError::InvalidName(String::new()),
        ),
        (
            "[[user]]\nname = \"alice\"\npassword = \"\"\n",
            UsersError::EmptyPassword("alice".into()),
        ),
        (
            "[[user]]\nname = \"bob\"\nha1 = \"00000000000000000000000000000000\"\n",
            UsersError::Ha1WithoutRealm("bob".into()),
        ),
        (
            "realm = \"r\"\n[[user]]\nname = \"bob\"\nha1 = \"xyz\"\n",
            UsersError::BadHa1 {
                name: "bob".into(),
                field: "ha1",
                digits: 32,
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            Users::from_toml(text).unwrap_err(),
            expected,
            "for {text:?}"
        );
    }
    assert_eq!(
        Users::from_toml("realm = \"\"\n").unwrap_err(),
        UsersError::InvalidRealm(String::new())
    );
}

#[test]
fn accounts_added_in_code_follow_the_same_rules() {
    let mut users = Users::new("dialtone").unwrap();
    users.add_password("demo", "demo-password").unwrap();
    assert_eq!(
        users.add_password("demo", "again"),
        Err(UsersError::Duplicate("demo".into()))
    );
    let sha = "b".repeat(64);
    users.add_ha1("web", None, Some(&sha)).unwrap();
    // "web" has only a SHA-256 HA1, so only SHA-256 is offered.
    assert_eq!(users.algorithms(), [Algorithm::Sha256]);
    assert_eq!(
        users.add_ha1("x", None, None),
        Err(UsersError::NoSecret("x".into()))
    );
}
