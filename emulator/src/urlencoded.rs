//! Strict `application/x-www-form-urlencoded` decoding for query strings and form bodies.
//!
//! Unlike a lossy decoder, this one rejects percent-escapes that do not decode to UTF-8, so a
//! `state` that the emulator echoes is exactly the string the client sent, byte for byte.

/// A query or form body that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the parameter `{0}` is not valid percent-encoded UTF-8")]
pub(crate) struct DecodeError(pub(crate) String);

/// Decodes `a=1&b=x+y` into pairs, in order; `+` is a space.
pub(crate) fn parse(input: &str) -> Result<Vec<(String, String)>, DecodeError> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(key).map_err(|()| DecodeError(truncate(key)))?;
            let value = decode(value).map_err(|()| DecodeError(key.clone()))?;
            Ok((key, value))
        })
        .collect()
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// One name or value, strictly: `+` is a space and every escape must be well formed
/// (`%` and two hex digits) and decode to UTF-8, as JavaScript's `decodeURIComponent`
/// requires, so a value echoed back is exactly the one sent.
fn decode(input: &str) -> Result<String, ()> {
    let spaced = input.replace('+', " ");
    let bytes = spaced.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err(());
    }
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| ())
}

/// The value of `key` when it appears exactly once; `Err` when it is repeated.
pub(crate) fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, ()> {
    let mut found = None;
    for (k, v) in pairs {
        if k == key {
            if found.is_some() {
                return Err(());
            }
            found = Some(v.as_str());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_utf8() {
        let pairs = parse("a=1&state=Fe26.2%2A1%2Ax~2&s=a+b%20c&e=&flag&u=%C3%A9").unwrap();
        assert_eq!(
            pairs,
            [
                ("a", "1"),
                ("state", "Fe26.2*1*x~2"),
                ("s", "a b c"),
                ("e", ""),
                ("flag", ""),
                ("u", "é"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn rejects_bad_escapes() {
        for bad in ["a=%", "a=%4", "a=%zz", "a=%ff", "%ff=1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn single_rejects_repeats() {
        let pairs = parse("a=1&b=2&a=3").unwrap();
        assert!(single(&pairs, "a").is_err());
        assert_eq!(single(&pairs, "b"), Ok(Some("2")));
        assert_eq!(single(&pairs, "c"), Ok(None));
    }
}
