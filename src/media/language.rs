//! Language tags of source streams. MP4 stores ISO 639-2/T codes (`fra`), Matroska ISO
//! 639-2/B (`fre`); HLS wants RFC 5646 / BCP 47 (`LANGUAGE="fr"`, RFC 8216 §4.3.4.1), whose
//! rule is the shortest ISO 639 code. The tables are the `isolang` crate's; the twenty
//! bibliographic codes that differ from the terminology ones are listed here (ISO 639-2 §2.2).

use isolang::Language;

/// ISO 639-2/B codes that differ from their ISO 639-2/T (= ISO 639-3) code.
const BIBLIOGRAPHIC: [(&str, &str); 20] = [
    ("alb", "sqi"),
    ("arm", "hye"),
    ("baq", "eus"),
    ("bur", "mya"),
    ("chi", "zho"),
    ("cze", "ces"),
    ("dut", "nld"),
    ("fre", "fra"),
    ("geo", "kat"),
    ("ger", "deu"),
    ("gre", "ell"),
    ("ice", "isl"),
    ("mac", "mkd"),
    ("mao", "mri"),
    ("may", "msa"),
    ("per", "fas"),
    ("rum", "ron"),
    ("slo", "slk"),
    ("tib", "bod"),
    ("wel", "cym"),
];

fn parse(tag: &str) -> Option<Language> {
    let code = tag.trim().to_ascii_lowercase();
    match code.len() {
        2 => Language::from_639_1(&code),
        3 => {
            let t = BIBLIOGRAPHIC
                .iter()
                .find(|(b, _)| *b == code)
                .map_or(code.as_str(), |(_, t)| t);
            Language::from_639_3(t)
        }
        _ => None,
    }
}

/// The BCP 47 tag for a stream's ISO 639 language code: the two-letter code where there is
/// one (`eng` → `en`, `fre` → `fr`), else the three-letter one (`yue`). `None` for `und`,
/// `mis`, `mul`, `zxx` and anything that is not a known code.
pub fn bcp47(tag: &str) -> Option<String> {
    let lang = parse(tag)?;
    let three = lang.to_639_3();
    if matches!(three, "und" | "mis" | "mul" | "zxx") {
        return None;
    }
    Some(lang.to_639_1().unwrap_or(three).to_string())
}

/// The English name of a BCP 47 tag's language (`fr` → `French`, `pt-BR` → `Portuguese`),
/// for a track menu when the source gives no title.
pub fn name(tag: &str) -> Option<&'static str> {
    parse(tag.split('-').next()?).map(|l| l.to_name())
}

/// What a track menu shows for a source stream: its `title`, else its language's English
/// name, else `fallback()` (e.g. `Track 2`).
pub fn track_label(title: Option<&str>, language: Option<&str>, fallback: impl FnOnce() -> String) -> String {
    title
        .map(String::from)
        .or_else(|| language.and_then(name).map(String::from))
        .unwrap_or_else(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_639_2_codes_become_the_shortest_tag() {
        assert_eq!(bcp47("eng").as_deref(), Some("en"));
        assert_eq!(bcp47("fra").as_deref(), Some("fr"));
        assert_eq!(bcp47("fre").as_deref(), Some("fr"), "Matroska's bibliographic code");
        assert_eq!(bcp47("GER").as_deref(), Some("de"));
        assert_eq!(bcp47("yue").as_deref(), Some("yue"), "no two-letter code");
        assert_eq!(bcp47("es").as_deref(), Some("es"));
        for none in ["und", "zxx", "mul", "", "english", "qqq"] {
            assert_eq!(bcp47(none), None, "{none}");
        }
    }

    #[test]
    fn names_are_english() {
        assert_eq!(name("fr"), Some("French"));
        assert_eq!(name("pt-BR"), Some("Portuguese"));
        assert_eq!(name("xx"), None);
    }
}
