//! GNU parallel's DBURL: `[sql:]vendor://[[user][:pwd]@][host][:port]/[db]/table`,
//! `%XX` escapes (`%2F` for a `/` in a path), a leading `+` to append.
//!
//! parx knows the vendors `sqlite`/`sqlite3` (db = the file) and
//! `pg`/`postgres`/`postgresql` (with an `s`/`ssl` suffix, as GNU accepts
//! them). The table must be a plain SQL name: it is put in statements.

use regex::Regex;
use std::sync::OnceLock;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A parsed DBURL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// `+DBURL`: add to the table instead of making it anew.
    pub append: bool,
    /// The vendor.
    pub vendor: Vendor,
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Host name, or a socket directory (`%2Frun%2Fpostgresql`).
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Database (SQLite: the file's path).
    pub database: Option<String>,
    /// The job table.
    pub table: String,
}

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // GNU parallel's parse_dburl, case-insensitive.
        Regex::new(
            r"(?ix)^(?:sql:)?
            ((?:oracle|ora|mysql|pg|postgres|postgresql)(?:s|ssl|)|(?:sqlite|sqlite2|sqlite3|csv))://
            (?:([^:@/][^:@]*|)(?::([^@]*))?@)?
            ([^:/]*)?
            (?::([^/]*)?)?
            (?:/([^/?]*)?)?
            (?:/([^?]*)?)?
            (?:\?(.*)?)?$",
        )
        .expect("the DBURL pattern is valid")
    })
}

/// `%XX` → the byte.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl DbUrl {
    /// Parses a DBURL as GNU parallel does.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let (append, rest) = match url.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, url),
        };
        let caps = pattern().captures(rest).ok_or_else(|| {
            format!(
                "'{url}' is not a valid DBURL (e.g. sqlite3:///jobs.db/tbl, pg://user@host/db/tbl)"
            )
        })?;
        let part = |i: usize| {
            caps.get(i)
                .map(|m| unescape(m.as_str()))
                .filter(|s| !s.is_empty())
        };
        let vendor = match part(1).unwrap_or_default().to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Vendor::Sqlite,
            "pg" | "pgs" | "pgssl" | "postgres" | "postgress" | "postgresssl" | "postgresql"
            | "postgresqls" | "postgresqlssl" => Vendor::Postgres,
            other => {
                return Err(format!(
                    "'{url}': the {other} vendor is not supported by parx (use sqlite3:// or pg://)"
                ));
            }
        };
        let mut database = part(6);
        let mut table = part(7).ok_or_else(|| format!("the DBURL ({url}) must contain a table"))?;
        // `sqlite3:///dir/file.db/tbl`: GNU wants `%2F` inside the path;
        // parx takes the last part as the table and the rest as the path.
        if let Some((dir, name)) = table.rsplit_once('/') {
            database = Some(match database {
                Some(d) => format!("{d}/{dir}"),
                None => dir.to_string(),
            });
            table = name.to_string();
        }
        if table.is_empty()
            || table.starts_with(|c: char| c.is_ascii_digit())
            || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!(
                "'{table}' in the DBURL ({url}) is not a plain table name (letters, digits, _)"
            ));
        }
        let port = match part(5) {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("'{p}' in the DBURL ({url}) is not a port number"))?,
            ),
            None => None,
        };
        if vendor == Vendor::Sqlite && database.is_none() {
            return Err(format!("the DBURL ({url}) must name the SQLite file"));
        }
        Ok(DbUrl {
            append,
            vendor,
            user: part(2),
            password: part(3),
            host: part(4),
            port,
            database,
            table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_with_escaped_path() {
        let u = DbUrl::parse("sqlite3:///%2Ftmp%2Fq.db/jobs").unwrap();
        assert_eq!(u.vendor, Vendor::Sqlite);
        assert_eq!(u.database.as_deref(), Some("/tmp/q.db"));
        assert_eq!(u.table, "jobs");
        assert!(!u.append);
    }

    #[test]
    fn sqlite_with_plain_slashes_and_append() {
        let u = DbUrl::parse("+sqlite3:///dir/q.db/jobs").unwrap();
        assert!(u.append);
        assert_eq!(u.database.as_deref(), Some("dir/q.db"));
        assert_eq!(u.table, "jobs");
    }

    #[test]
    fn postgres_full() {
        let u = DbUrl::parse("sql:pg://me:se%40cret@db.example:5433/parx/tbl").unwrap();
        assert_eq!(u.vendor, Vendor::Postgres);
        assert_eq!(u.user.as_deref(), Some("me"));
        assert_eq!(u.password.as_deref(), Some("se@cret"));
        assert_eq!(u.host.as_deref(), Some("db.example"));
        assert_eq!(u.port, Some(5433));
        assert_eq!(u.database.as_deref(), Some("parx"));
        assert_eq!(u.table, "tbl");
    }

    #[test]
    fn postgres_socket_dir() {
        let u = DbUrl::parse("postgresql://parx@%2Ftmp%2Fpg:5432/db/t1").unwrap();
        assert_eq!(u.host.as_deref(), Some("/tmp/pg"));
    }

    #[test]
    fn bad_urls() {
        assert!(DbUrl::parse("nonsense").is_err());
        assert!(DbUrl::parse("mysql://u@h/db/t").is_err());
        assert!(DbUrl::parse("pg://u@h/db").is_err());
        assert!(DbUrl::parse("pg://u@h/db/t;drop").is_err());
        assert!(DbUrl::parse("pg://u@h:port/db/t").is_err());
    }
}
