//! An attempt's answer as the ledger stores it: the client's [`SendClass`] in three typed
//! columns (`result`, its `kind`, the `named_id` of a doubt) beside `wamid`, so what an answer
//! proved is read back as the same type, never out of `error_detail`'s words.

use rusqlite::{Row, ToSql};

use crate::api::classify::{Fatal, RetryKind, SendClass, Taken};

/// `as_str` (the stored spelling), `ToSql` and `FromSql` for a fieldless enum through one
/// table of its words, so the writer and the reader of a column cannot spell a value two ways
/// (and an unknown word is an error).
macro_rules! stored_as_words {
    ($ty:ident: $($value:ident => $word:literal),+ $(,)?) => {
        impl $ty {
            /// The spelling stored in the ledger.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$value => $word,)+
                }
            }
        }

        impl rusqlite::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $ty {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                match value.as_str()? {
                    $($word => Ok($ty::$value),)+
                    other => Err(rusqlite::types::FromSqlError::Other(
                        format!("unknown {} `{other}`", stringify!($ty)).into(),
                    )),
                }
            }
        }
    };
}
pub(super) use stored_as_words;

stored_as_words!(Taken: Unsaid => "unsaid", NamedId => "named_id", WithoutId => "without_id");
stored_as_words!(RetryKind:
    Connect => "connect",
    TooManyRequests => "too_many_requests",
    Throughput => "throughput",
    PairRate => "pair_rate",
    Transient => "transient",
    Unavailable => "unavailable",
);
stored_as_words!(Fatal:
    Credentials => "credentials",
    Configuration => "configuration",
    Unavailable => "unavailable",
);

/// The `kind`, `named_id` and `wamid` columns of an answer of class `class`: why it is
/// retried, stopped or in doubt; the id a doubtful answer named; the wamid an accepted one
/// carries.
pub(super) fn columns_of(class: &SendClass) -> (Option<&dyn ToSql>, Option<&str>, Option<&str>) {
    match class {
        SendClass::Retry(kind) => (Some(kind), None, None),
        SendClass::Ambiguous { taken, named_id } => (Some(taken), named_id.as_deref(), None),
        SendClass::Fatal(kind) => (Some(kind), None, None),
        SendClass::Accepted { wamid } => (None, None, Some(wamid)),
        SendClass::Rejected => (None, None, None),
    }
}

/// Reads an answer's class from the columns `result, kind, named_id, wamid` starting at `at`;
/// `None` for an attempt not answered.
pub(super) fn class_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Option<SendClass>> {
    let result: Option<String> = r.get(at)?;
    let Some(result) = result else {
        return Ok(None);
    };
    Ok(Some(match result.as_str() {
        "accepted" => SendClass::Accepted {
            wamid: r.get(at + 3)?,
        },
        "retry" => SendClass::Retry(r.get(at + 1)?),
        "ambiguous" => SendClass::Ambiguous {
            taken: r.get(at + 1)?,
            named_id: r.get(at + 2)?,
        },
        "rejected" => SendClass::Rejected,
        "fatal" => SendClass::Fatal(r.get(at + 1)?),
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                at,
                rusqlite::types::Type::Text,
                format!("unknown attempt result `{other}`").into(),
            ));
        }
    }))
}
