//! JSON integers for request bodies: JSON Schema counts `3.0` as an integer (JSON Schema
//! 2020-12 §6.1.1) and OpenAPI clients send it so; serde's integer types refuse it. These
//! `deserialize_with` functions take an integer written either way.

use serde::Deserialize;

/// A JSON integer in `u32`, also when written with a zero fraction (`3.0`): JSON Schema counts
/// that as an integer (JSON Schema 2020-12 §6.1.1), serde does not.
pub fn u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number from 0 to 4294967295")))
}

/// [`u32`], absent or `null` allowed.
pub fn optional_u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "self::u32")] u32);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// An optional JSON integer, also when written with a zero fraction (`3.0`): JSON Schema counts
/// that as an integer (JSON Schema 2020-12 §6.1.1), serde does not.
pub fn optional_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number"))),
    }
}
