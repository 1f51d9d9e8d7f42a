//! Java's `sasl.jaas.config`: one JAAS login module entry,
//! `<LoginModuleClass> <required|requisite|sufficient|optional> key="value" key2=value2 ... ;`.
//!
//! Values may be quoted (with backslash escapes) or bare words. Errors name the option and the
//! problem, never the value: the values include passwords and client secrets.

use std::collections::BTreeMap;
use std::fmt;

use super::SaslError;

/// The property this module parses, for error messages.
const KEY: &str = "sasl.jaas.config";

/// Longest accepted value: far beyond any real configuration, small enough to bound the work.
const MAX_LEN: usize = 64 * 1024;

/// Kafka's login module classes that kprod understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginModule {
    /// `org.apache.kafka.common.security.plain.PlainLoginModule`.
    Plain,
    /// `org.apache.kafka.common.security.scram.ScramLoginModule`.
    Scram,
    /// `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule`.
    OAuthBearer,
}

impl LoginModule {
    fn from_class(class: &str) -> Option<Self> {
        match class {
            "org.apache.kafka.common.security.plain.PlainLoginModule" => Some(LoginModule::Plain),
            "org.apache.kafka.common.security.scram.ScramLoginModule" => Some(LoginModule::Scram),
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule" => {
                Some(LoginModule::OAuthBearer)
            }
            _ => None,
        }
    }

    /// The short class name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LoginModule::Plain => "PlainLoginModule",
            LoginModule::Scram => "ScramLoginModule",
            LoginModule::OAuthBearer => "OAuthBearerLoginModule",
        }
    }
}

/// A parsed `sasl.jaas.config`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct JaasConfig {
    /// Which login module.
    pub(crate) module: LoginModule,
    /// Every option, as given (the known ones are read through the accessors).
    pub(crate) options: BTreeMap<String, String>,
}

/// Options whose values are shown in Debug output; all others may be secret.
const PUBLIC_OPTIONS: &[&str] = &["username", "clientId", "scope", "unsecuredLoginStringClaim_sub"];

impl fmt::Debug for JaasConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Options<'a>(&'a BTreeMap<String, String>);
        impl fmt::Debug for Options<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(k, v)| {
                        let shown =
                            if PUBLIC_OPTIONS.contains(&k.as_str()) { v.as_str() } else { "[redacted]" };
                        (k, shown)
                    }))
                    .finish()
            }
        }
        f.debug_struct("JaasConfig")
            .field("module", &self.module)
            .field("options", &Options(&self.options))
            .finish()
    }
}

impl JaasConfig {
    /// The option `key`, if given.
    pub(crate) fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    /// Parses the property's value.
    pub(crate) fn parse(text: &str) -> Result<Self, SaslError> {
        if text.len() > MAX_LEN {
            return Err(err(format!("longer than {MAX_LEN} bytes")));
        }
        let mut lexer = Lexer { chars: text.char_indices().peekable() };
        let class = match lexer.token()? {
            Some(Token::Word(w)) => w,
            Some(_) | None => return Err(err("expected a login module class name")),
        };
        let module = LoginModule::from_class(&class).ok_or_else(|| {
            err(format!(
                "login module {class} is not supported; use PlainLoginModule, ScramLoginModule or \
                 OAuthBearerLoginModule from org.apache.kafka.common.security"
            ))
        })?;
        match lexer.token()? {
            Some(Token::Word(flag))
                if ["required", "requisite", "sufficient", "optional"]
                    .contains(&flag.to_ascii_lowercase().as_str()) => {}
            _ => {
                return Err(err(
                    "expected a control flag (required, requisite, sufficient or optional) after the class",
                ))
            }
        }
        let mut options = BTreeMap::new();
        loop {
            let key = match lexer.token()? {
                Some(Token::Semicolon) => break,
                Some(Token::Word(k)) => k,
                Some(_) => return Err(err("expected an option name or ';'")),
                None => return Err(err("missing the closing ';'")),
            };
            if lexer.token()? != Some(Token::Equals) {
                return Err(err(format!("option {key} has no '=' and value")));
            }
            let value = match lexer.token_for(&key)? {
                Some(Token::Word(v) | Token::Quoted(v)) => v,
                _ => return Err(err(format!("option {key} has no value"))),
            };
            if options.insert(key.clone(), value).is_some() {
                return Err(err(format!("option {key} is given twice")));
            }
        }
        // Kafka accepts exactly one login module in sasl.jaas.config.
        if lexer.token()?.is_some() {
            return Err(err("more than one login module entry; give exactly one"));
        }
        Ok(JaasConfig { module, options })
    }
}

fn err(message: impl Into<String>) -> SaslError {
    SaslError::config(KEY, message)
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
    Semicolon,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Lexer<'_> {
    fn token(&mut self) -> Result<Option<Token>, SaslError> {
        self.token_for("")
    }

    /// The next token; `option` names the option whose value may follow, for error messages.
    fn token_for(&mut self, option: &str) -> Result<Option<Token>, SaslError> {
        while self.chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some((_, c)) = self.chars.next() else { return Ok(None) };
        Ok(Some(match c {
            '=' => Token::Equals,
            ';' => Token::Semicolon,
            '"' => {
                let mut value = String::new();
                loop {
                    match self.chars.next() {
                        None => {
                            let what = if option.is_empty() {
                                "a quoted string".to_owned()
                            } else {
                                format!("the value of {option}")
                            };
                            return Err(err(format!("{what} has no closing quote")));
                        }
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match self.chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, 't')) => value.push('\t'),
                            Some((_, 'r')) => value.push('\r'),
                            Some((_, other)) => value.push(other),
                            None => return Err(err("a quoted value ends in a lone backslash")),
                        },
                        Some((_, ch)) => value.push(ch),
                    }
                }
                Token::Quoted(value)
            }
            c => {
                let mut word = String::from(c);
                while let Some((_, ch)) =
                    self.chars.next_if(|&(_, ch)| !ch.is_whitespace() && !"=;\"".contains(ch))
                {
                    word.push(ch);
                }
                Token::Word(word)
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_and_scram() {
        let j = JaasConfig::parse(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="p\"a;s s";"#,
        )
        .unwrap();
        assert_eq!(j.module, LoginModule::Plain);
        assert_eq!(j.option("username"), Some("alice"));
        assert_eq!(j.option("password"), Some("p\"a;s s"));
        let j = JaasConfig::parse(
            "  org.apache.kafka.common.security.scram.ScramLoginModule Required\n username=bob password=x\\y tokenauth=true ; ",
        )
        .unwrap();
        assert_eq!(j.module, LoginModule::Scram);
        assert_eq!(j.option("username"), Some("bob"));
        assert_eq!(j.option("password"), Some("x\\y"), "no escapes outside quotes");
        assert_eq!(j.option("tokenauth"), Some("true"));
    }

    #[test]
    fn parses_oauthbearer_with_extra_options() {
        let j = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"svc\" unsecuredLoginLifetimeSeconds=\"600\" clientId=id \
             clientSecret=\"sh\\\\h\" scope=\"a b\" extension_traceId=\"123\";",
        )
        .unwrap();
        assert_eq!(j.module, LoginModule::OAuthBearer);
        assert_eq!(j.option("unsecuredLoginLifetimeSeconds"), Some("600"));
        assert_eq!(j.option("clientSecret"), Some("sh\\h"));
        assert_eq!(j.option("scope"), Some("a b"));
        assert_eq!(j.option("extension_traceId"), Some("123"));
        let d = format!("{j:?}");
        assert!(!d.contains("sh\\"), "{d}");
        assert!(d.contains("svc"), "{d}");
    }

    #[test]
    fn errors_name_the_problem_not_the_password() {
        let secret = "TopSecret123";
        for (text, expect) in [
            (format!("org.example.Other required password=\"{secret}\";"), "not supported"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule password=\"{secret}\";"), "control flag"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule required password=\"{secret}"), "closing quote"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule required password=\"{secret}\""), "';'"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule required password {secret};"), "'='"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required password=;".to_owned(), "no value"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule required password={secret} password={secret};"), "twice"),
            (format!("org.apache.kafka.common.security.plain.PlainLoginModule required password={secret}; x"), "more than one"),
            ("".to_owned(), "class name"),
        ] {
            let e = JaasConfig::parse(&text).unwrap_err().to_string();
            assert!(e.contains(expect), "{text:?}: {e}");
            assert!(!e.contains(secret), "{e}");
            assert!(e.contains("sasl.jaas.config"), "{e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,120}") {
            let _ = JaasConfig::parse(&s);
            let _ = JaasConfig::parse(&format!("org.apache.kafka.common.security.plain.PlainLoginModule required {s}"));
        }
    }
}
