//! The SQL both backends send, written once: GNU parallel's table, parx's
//! lease columns and indexes, the control table that says whether a
//! master is still adding rows, and every statement of a claim's life.
//! Only placeholders and the clock differ between the two dialects.

use super::{PENDING, RESERVED, RUNNING};

/// The control table: one row per job table, `Adding` = 1 while its
/// master inserts rows.
pub const CONTROL: &str = "parx_queue";

/// Where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?N`, `julianday`.
    Sqlite,
    /// PostgreSQL: `$N`, `clock_timestamp()`.
    Postgres,
}

impl Dialect {
    fn p(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// The database's clock, in seconds since the epoch: leases are
    /// compared on one clock, whatever the workers' clocks say.
    fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "((julianday('now') - 2440587.5) * 86400.0)",
            Dialect::Postgres => "(extract(epoch from clock_timestamp())::float8)",
        }
    }
}

/// The statements for one job table.
#[derive(Debug, Clone)]
pub struct Sql {
    dialect: Dialect,
    table: String,
}

fn v_columns(values: usize) -> String {
    (1..=values).map(|i| format!(", V{i}")).collect()
}

impl Sql {
    /// Statements for `table`.
    pub fn new(dialect: Dialect, table: &str) -> Sql {
        Sql {
            dialect,
            table: table.to_string(),
        }
    }

    /// The job table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Makes the control table if missing.
    pub fn create_control(&self) -> String {
        format!("CREATE TABLE IF NOT EXISTS {CONTROL} (Name TEXT PRIMARY KEY, Adding BIGINT)")
    }

    /// Sets `Adding` for this table: parameter 1.
    pub fn set_adding(&self) -> String {
        format!(
            "INSERT INTO {CONTROL} (Name, Adding) VALUES ('{t}', {p1}) \
             ON CONFLICT (Name) DO UPDATE SET Adding = excluded.Adding",
            t = self.table,
            p1 = self.dialect.p(1)
        )
    }

    /// `Adding` for this table (no row: no master yet).
    pub fn adding(&self) -> String {
        format!("SELECT Adding FROM {CONTROL} WHERE Name = '{}'", self.table)
    }

    /// Drops the job table.
    pub fn drop_table(&self) -> String {
        format!("DROP TABLE IF EXISTS {}", self.table)
    }

    /// GNU parallel's table (its column types), then parx's lease columns
    /// and two indexes: one `Seq` per row, and the rows without a result
    /// in `Seq` order (a partial index: a claim reads only those, however
    /// many rows are done).
    pub fn create_table(&self, values: usize) -> Vec<String> {
        let t = &self.table;
        let v: String = (1..=values).map(|i| format!("V{i} TEXT, ")).collect();
        vec![
            format!(
                "CREATE TABLE {t} (Seq BIGINT, Host TEXT, Starttime FLOAT(44), \
                 JobRuntime FLOAT(44), Send BIGINT, Receive BIGINT, Exitval BIGINT, \
                 _Signal BIGINT, Command TEXT, {v}Stdout TEXT, Stderr TEXT, \
                 Lease_Owner TEXT, Lease_Until FLOAT(44), Attempt BIGINT)"
            ),
            format!("CREATE UNIQUE INDEX {t}_parx_seq ON {t} (Seq)"),
            format!("CREATE INDEX {t}_parx_open ON {t} (Seq) WHERE Exitval <= {PENDING}"),
        ]
    }

    /// The next `Seq` when appending.
    pub fn max_seq(&self) -> String {
        format!("SELECT COALESCE(MAX(Seq), 0) FROM {}", self.table)
    }

    /// One pending row: `Seq`, `Command`, V1..Vn as parameters.
    pub fn insert(&self, values: usize) -> String {
        let params: String = (1..=values + 2)
            .map(|i| self.dialect.p(i))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} (Seq, Command{}, Exitval, Send, Attempt) VALUES ({params}, {PENDING}, 0, 0)",
            self.table,
            v_columns(values)
        )
    }

    /// Rows whose lease ran out after `max_claims` (parameter 1) claims
    /// fail: their workers keep dying.
    pub fn fail_exhausted(&self) -> String {
        format!(
            "UPDATE {t} SET Exitval = -1, _Signal = 0, Lease_Until = NULL, \
             Stderr = 'parx: job given up: its worker was lost on every try (lease ran out)' \
             WHERE Exitval IN ({RUNNING}, {RESERVED}) AND Lease_Until < {now} \
             AND Attempt >= {p1}",
            t = self.table,
            now = self.dialect.now(),
            p1 = self.dialect.p(1)
        )
    }

    /// Claims up to parameter 3 rows for owner parameter 1 with a lease of
    /// parameter 2 seconds: pending rows, and rows whose lease ran out
    /// claimed fewer than parameter 4 times; returns `Seq, Attempt,
    /// Command, V1..Vn`.
    pub fn claim(&self, values: usize) -> String {
        let t = &self.table;
        let now = self.dialect.now();
        let lock = match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        format!(
            "UPDATE {t} SET Exitval = {RUNNING}, Lease_Owner = {p1}, \
             Lease_Until = {now} + {p2}, Attempt = COALESCE(Attempt, 0) + 1 \
             WHERE Seq IN (SELECT Seq FROM {t} WHERE Exitval <= {PENDING} \
             AND (Exitval = {PENDING} OR (Exitval IN ({RUNNING}, {RESERVED}) \
             AND Lease_Until < {now} AND Attempt < {p4})) \
             ORDER BY Seq LIMIT {p3}{lock}) \
             RETURNING Seq, Attempt, Command{v}",
            p1 = self.dialect.p(1),
            p2 = self.dialect.p(2),
            p3 = self.dialect.p(3),
            p4 = self.dialect.p(4),
            v = v_columns(values)
        )
    }

    /// Writes a result: Host, Starttime, JobRuntime, Send, Receive,
    /// Exitval, _Signal, Command, Stdout, Stderr (parameters 1–10) where
    /// Seq = 11, Lease_Owner = 12 and Attempt = 13 still hold.
    pub fn complete(&self) -> String {
        let d = self.dialect;
        format!(
            "UPDATE {t} SET Host = {}, Starttime = {}, JobRuntime = {}, Send = {}, \
             Receive = {}, Exitval = {}, _Signal = {}, Command = {}, Stdout = {}, \
             Stderr = {}, Lease_Until = NULL \
             WHERE Seq = {} AND Lease_Owner = {} AND Attempt = {} \
             AND Exitval IN ({RUNNING}, {RESERVED})",
            d.p(1),
            d.p(2),
            d.p(3),
            d.p(4),
            d.p(5),
            d.p(6),
            d.p(7),
            d.p(8),
            d.p(9),
            d.p(10),
            d.p(11),
            d.p(12),
            d.p(13),
            t = self.table
        )
    }

    /// Whether a result for (Seq 1, owner 2, attempt 3) is there already
    /// (a retried write whose first try did commit).
    pub fn completed_by(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE Seq = {} AND Lease_Owner = {} AND Attempt = {} \
             AND Exitval > {PENDING}",
            self.table,
            self.dialect.p(1),
            self.dialect.p(2),
            self.dialect.p(3)
        )
    }

    /// Extends owner parameter 1's leases by parameter 2 seconds on the
    /// Seqs in parameter 3 (SQLite: a JSON array; PostgreSQL: an array).
    pub fn renew(&self) -> String {
        let seqs = match self.dialect {
            Dialect::Sqlite => "SELECT value FROM json_each(?3)".to_string(),
            Dialect::Postgres => "SELECT unnest($3::bigint[])".to_string(),
        };
        format!(
            "UPDATE {t} SET Lease_Until = {now} + {p2} WHERE Lease_Owner = {p1} \
             AND Exitval IN ({RUNNING}, {RESERVED}) AND Seq IN ({seqs})",
            t = self.table,
            now = self.dialect.now(),
            p1 = self.dialect.p(1),
            p2 = self.dialect.p(2),
        )
    }

    /// Owner parameter 1's rows without a result become pending again.
    pub fn release(&self) -> String {
        format!(
            "UPDATE {} SET Exitval = {PENDING}, Lease_Owner = NULL, Lease_Until = NULL \
             WHERE Lease_Owner = {} AND Exitval IN ({RUNNING}, {RESERVED})",
            self.table,
            self.dialect.p(1)
        )
    }

    /// Rows without a result that owner parameter 1 does not hold.
    pub fn others_unfinished(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE Exitval <= {PENDING} \
             AND (Lease_Owner IS NULL OR Lease_Owner <> {})",
            self.table,
            self.dialect.p(1)
        )
    }

    /// From Seq parameter 1 on: rows without a result, failed rows.
    pub fn tally(&self) -> String {
        format!(
            "SELECT COALESCE(SUM(CASE WHEN Exitval <= {PENDING} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN Exitval > {PENDING} AND (Exitval <> 0 OR _Signal <> 0) \
             THEN 1 ELSE 0 END), 0) FROM {} WHERE Seq >= {}",
            self.table,
            self.dialect.p(1)
        )
    }

    /// The `NOTIFY` channel of this table.
    pub fn channel(&self) -> String {
        format!("parx_{}", self.table.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_dialect() {
        let s = Sql::new(Dialect::Sqlite, "t").insert(2);
        assert!(s.contains("VALUES (?1, ?2, ?3, ?4, -1000, 0, 0)"), "{s}");
        let p = Sql::new(Dialect::Postgres, "t").claim(1);
        assert!(p.contains("FOR UPDATE SKIP LOCKED"), "{p}");
        assert!(p.contains("RETURNING Seq, Attempt, Command, V1"), "{p}");
    }

    #[test]
    fn gnu_columns_come_first() {
        let c = &Sql::new(Dialect::Sqlite, "t").create_table(2)[0];
        assert!(c.contains(
            "(Seq BIGINT, Host TEXT, Starttime FLOAT(44), JobRuntime FLOAT(44), Send BIGINT, \
             Receive BIGINT, Exitval BIGINT, _Signal BIGINT, Command TEXT, V1 TEXT, V2 TEXT, \
             Stdout TEXT, Stderr TEXT,"
        ));
    }
}
