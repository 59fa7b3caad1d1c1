//! The channel token, boxed apart from the client so that the one place
//! it is read stays small and easy to audit.

use std::fmt;

/// The channel token, in a `secrecy` box: it has no `Display`, its
/// `Debug` prints `[REDACTED]`, it is zeroed when dropped, and it is read
/// (`expose`) only inside `api/client.rs`: where the header or the query
/// is built, and where answers' texts are redacted.
#[derive(Clone)]
pub(crate) struct Token(secrecy::SecretString);

impl Token {
    pub(crate) fn new(s: impl Into<String>) -> Token {
        Token(secrecy::SecretString::from(s.into()))
    }

    pub(super) fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let t = Token::new("CANARY-secret");
        assert!(!format!("{t:?}").contains("CANARY"));
    }
}
