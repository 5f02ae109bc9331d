//! Closed vocabularies (household type, poverty cause, status, …) share one shape: a stable
//! ASCII code stored in the database and used in the API, and the Chinese label a user reads
//! and types into forms and spreadsheets. `labelled_enum!` writes both directions once.

/// A closed vocabulary whose values have a stored code and a Chinese label.
pub trait Labelled: Sized + Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The vocabulary's own Chinese name, used in messages ("致贫原因").
    const FIELD: &'static str;
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;

    /// Parse a stored code or a Chinese label (what a user types in a form or a spreadsheet).
    fn parse(text: &str) -> Result<Self, UnknownValue> {
        let t = text.trim();
        Self::ALL.iter().copied().find(|v| v.code() == t || v.label() == t).ok_or_else(|| UnknownValue {
            field: Self::FIELD,
            value: t.to_string(),
            allowed: Self::ALL.iter().map(|v| v.label()).collect::<Vec<_>>().join("、"),
        })
    }
}

/// A value outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}“{value}”无法识别，可填：{allowed}")]
pub struct UnknownValue {
    pub field: &'static str,
    pub value: String,
    pub allowed: String,
}

/// Declare a closed vocabulary: `Variant => ("code", "标签")`.
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident : $field:literal { $($(#[$vmeta:meta])* $variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::labelled::Labelled for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const FIELD: &'static str = $field;
            fn code(self) -> &'static str { match self { $(Self::$variant => $code),+ } }
            fn label(self) -> &'static str { match self { $(Self::$variant => $label),+ } }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::labelled::Labelled::label(*self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::labelled::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::labelled::Labelled>::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::labelled::Labelled::code(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                <Self as $crate::labelled::Labelled>::parse(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    labelled_enum! {
        enum Colour: "颜色" { Red => ("red", "红"), Green => ("green", "绿") }
    }

    #[test]
    fn parses_code_or_label_and_names_the_choices_when_wrong() {
        assert_eq!(Colour::parse("red"), Ok(Colour::Red));
        assert_eq!(Colour::parse(" 绿 "), Ok(Colour::Green));
        let err = Colour::parse("蓝").unwrap_err();
        assert_eq!(err.to_string(), "颜色“蓝”无法识别，可填：红、绿");
    }
}
