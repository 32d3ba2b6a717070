//! `--colsep REGEX`: splitting one value into columns `{1}` `{2}` …, with
//! Perl's `split /REGEX/, $value, -1` rules (trailing empty columns kept, a
//! zero-width match at either end does not make an empty column, capture
//! groups are columns too).

use regex::bytes::Regex;

/// Splits values into columns.
#[derive(Debug, Clone)]
pub struct ColumnSplitter {
    re: Regex,
}

impl ColumnSplitter {
    /// Compiles the `--colsep` regular expression.
    pub fn new(pattern: &str) -> Result<Self, regex::Error> {
        Ok(ColumnSplitter {
            re: Regex::new(pattern)?,
        })
    }

    /// The columns of `value`; an empty value is one empty column.
    /// `keep_trailing_empty` is Perl's limit `-1` (data lines); header lines
    /// drop trailing empty columns.
    pub fn split(&self, value: &[u8], keep_trailing_empty: bool) -> Vec<Vec<u8>> {
        if value.is_empty() {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        let mut start = 0;
        for caps in self.re.captures_iter(value) {
            let Some(m) = caps.get(0) else { continue };
            if m.start() == m.end() && (m.start() == 0 || m.start() >= value.len()) {
                continue;
            }
            out.push(value[start..m.start()].to_vec());
            for g in caps.iter().skip(1) {
                out.push(g.map(|g| g.as_bytes().to_vec()).unwrap_or_default());
            }
            start = m.end();
        }
        out.push(value[start..].to_vec());
        if !keep_trailing_empty {
            while out.len() > 1 && out.last().is_some_and(Vec::is_empty) {
                out.pop();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(re: &str, v: &str) -> Vec<String> {
        ColumnSplitter::new(re)
            .unwrap()
            .split(v.as_bytes(), true)
            .into_iter()
            .map(|c| String::from_utf8(c).unwrap())
            .collect()
    }

    #[test]
    fn perl_split_rules() {
        assert_eq!(cols(",", "a,b,,"), ["a", "b", "", ""]);
        assert_eq!(cols(",", ",a"), ["", "a"]);
        assert_eq!(cols("", "abc"), ["a", "b", "c"]);
        assert_eq!(cols("(,)", "a,b"), ["a", ",", "b"]);
        assert_eq!(cols(",", ""), [""]);
    }
}
