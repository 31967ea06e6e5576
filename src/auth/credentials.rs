//! Account fields, parsed once ("parse, don't validate"): after [`Username::parse`],
//! [`Email::parse`] and [`NewPassword::parse`] an invalid value cannot exist. Error messages
//! say what to change.

/// Fewest characters in a password (OWASP ASVS 2.1.1 asks for at least 8; Kino wants 10).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most characters in a password (long enough for passphrases; bounds hashing work).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A username: 3–32 characters of `a-z 0-9 _ . -`, starting with a letter or digit, stored
/// lowercase (so `Alice` and `alice` are the same account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Errors: a message naming the broken rule.
    pub fn parse(raw: &str) -> Result<Username, String> {
        let s = raw.trim().to_ascii_lowercase();
        let n = s.chars().count();
        if !(3..=32).contains(&n) {
            return Err("the username must be 3 to 32 characters long".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("the username must start with a letter or a digit".into());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        {
            return Err("the username may contain only letters a–z, digits and _ . -".into());
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, stored lowercase. Only its shape is checked (one `@`, a dotted domain,
/// no spaces, at most 254 characters, RFC 5321 §4.5.3.1.3); Kino sends no mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Errors: a message saying the address is not usable.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s = raw.trim().to_ascii_lowercase();
        let bad = || "enter a valid email address, like name@example.com".to_string();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chose: 10–128 characters (Unicode allowed, nothing else imposed, as
/// NIST SP 800-63B §5.1.1.2 advises).
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    /// Errors: too short or too long, saying the bounds.
    pub fn parse(raw: &str) -> Result<NewPassword, String> {
        let n = raw.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(format!(
                "the password must be at least {MIN_PASSWORD_CHARS} characters long"
            ));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(format!(
                "the password must be at most {MAX_PASSWORD_CHARS} characters long"
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert_eq!(Username::parse(" Alice_99 ").unwrap().as_str(), "alice_99");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("_alice").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("élodie").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(Email::parse("A@Example.org").unwrap().as_str(), "a@example.org");
        for bad in ["a", "a@b", "@b.c", "a@b.c@d.e", "a b@c.d", "a@.c", "a@c."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("correct horse").is_ok());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
    }
}
