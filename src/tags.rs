//! Video tags, parsed once: lowercase, `#` dropped, inner spaces turned into `-`, letters,
//! digits, `-` and `_` only, 1–30 characters each, at most 10 per video, duplicates dropped.

/// Most tags on one video.
pub const MAX_TAGS: usize = 10;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 30;

/// Normalises `raw` tags (each may also hold several, comma-separated).
///
/// Errors: a tag with other characters, too long, or too many tags — saying which.
pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for item in raw {
        for piece in item.split(',') {
            let t = piece.trim().trim_start_matches('#').trim().to_lowercase();
            if t.is_empty() {
                continue;
            }
            let t = t.split_whitespace().collect::<Vec<_>>().join("-");
            if t.chars().count() > MAX_TAG_CHARS {
                return Err(format!("the tag {t:?} is longer than {MAX_TAG_CHARS} characters"));
            }
            if !t.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("the tag {t:?} may contain only letters, digits, - and _"));
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("a video can have at most {MAX_TAGS} tags"));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised() {
        assert_eq!(
            parse(["Rust, #Video  Delivery,rust"]).unwrap(),
            ["rust", "video-delivery"]
        );
        assert_eq!(parse(["Café"]).unwrap(), ["café"]);
        assert!(parse(["<script>"]).is_err());
        assert!(parse([&*"x".repeat(31)]).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse(many.iter().map(String::as_str)).is_err());
        assert!(parse([" , "]).unwrap().is_empty());
    }
}
