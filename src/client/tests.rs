//! Unit tests of the reference client that need no socket: what a profile and its settings are,
//! and that a connection can run on any thread. Whole connections against both mocks over real
//! loopback sockets are end-to-end tests: `tests/it/client.rs`.

use super::*;
use lab_kit::Clock;

#[test]
fn connecting_is_send_so_scenarios_can_run_in_parallel() {
    fn is_send<T: Send>(_: &T) {}
    let mut o = Outlook::new(
        Profile::Outlook2016,
        Settings::contoso("GregT@contoso.com"),
        Transport::plain(|_| None, Clock::frozen_at_unix(0)),
    );
    let fut = o.connect();
    is_send(&fut);
}

#[test]
fn settings_read_from_scenario_data() {
    let s: Settings = serde_json::from_value(serde_json::json!({
        "user": "GregT@contoso.com",
        "password": "p",
        "onprem_logon": "CONTOSO\\GregT",
        "registry": {"enable_adal": 1, "version": 1}
    }))
    .expect("settings");
    assert_eq!(s.mfa_code, "123456");
    assert!(s.kmsi);
    assert_eq!(s.registry.enable_adal, Some(1));
    assert_eq!(s.onprem_logon, "CONTOSO\\GregT");
    let bad = serde_json::from_value::<Settings>(serde_json::json!({
        "user": "u", "password": "p", "onprem_logon": "l", "enableadal": 1
    }));
    assert!(bad.is_err(), "unknown fields are refused");
}

#[test]
fn profile_names_round_trip() {
    for p in [
        Profile::Outlook2010,
        Profile::Outlook2013,
        Profile::Outlook2016,
        Profile::Outlook2016Mac,
        Profile::NativeEas,
    ] {
        assert_eq!(Profile::parse(p.name()), Some(p));
    }
    assert_eq!(Profile::parse("Outlook 2016"), Some(Profile::Outlook2016));
    assert_eq!(Profile::parse("outlook-2019"), None);
}

#[test]
fn registry_and_defaults_are_set_like_reg_add_and_defaults_write() {
    let mut o = Outlook::new(
        Profile::Outlook2013,
        Settings::contoso("GregT@contoso.com"),
        Transport::plain(|_| None, Clock::frozen_at_unix(0)),
    );
    assert!(!o.modern_auth());
    assert_eq!(
        o.set_registry_dword(
            r"HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity",
            "EnableADAL",
            Some(1)
        ),
        Ok(true)
    );
    assert!(!o.modern_auth(), "Version is still missing");
    assert_eq!(
        o.set_registry_dword(
            r"HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Common\Identity",
            "Version",
            Some(1)
        ),
        Ok(false),
        "Office 2016's key does not affect Outlook 2013"
    );
    assert!(!o.modern_auth());
    assert_eq!(
        o.set_registry_dword(
            r"HKCU:\Software\Microsoft\Office\15.0\Common\Identity",
            "version",
            Some(1)
        ),
        Ok(true)
    );
    assert!(o.modern_auth());
    assert_eq!(
        o.set_registry_dword(
            r"HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity",
            "EnableADAL",
            None
        ),
        Ok(true)
    );
    assert!(!o.modern_auth(), "value deleted");
    assert!(o
        .set_registry_dword(
            r"HKLM\SOFTWARE\Microsoft\Office\15.0\Common\Identity",
            "EnableADAL",
            Some(1)
        )
        .is_err());
    assert!(o
        .set_registry_dword(
            r"HKCU\SOFTWARE\Microsoft\Exchange",
            "AlwaysUseMSOAuthForAutoDiscover",
            Some(1)
        )
        .is_err());
    assert!(o
        .set_registry_dword(
            r"HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity",
            "Bogus",
            Some(1)
        )
        .is_err());

    let mut mac = Outlook::new(
        Profile::Outlook2016Mac,
        Settings::contoso("GregT@contoso.com"),
        Transport::plain(|_| None, Clock::frozen_at_unix(0)),
    );
    assert!(mac.modern_auth());
    assert_eq!(
        mac.defaults_write("com.microsoft.Outlook", "DisableModernAuth", true),
        Ok(())
    );
    assert!(!mac.modern_auth());
    assert_eq!(
        mac.defaults_write("com.microsoft.Outlook", "DisableModernAuth", false),
        Ok(())
    );
    assert!(mac.modern_auth());
    assert!(mac
        .defaults_write("com.apple.mail", "DisableModernAuth", true)
        .is_err());
}
