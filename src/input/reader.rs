//! Splitting one byte stream into records, as GNU parallel reads its
//! input: records end with the delimiter (`\n`, `-0`, `-d`), which is
//! removed; a last record without one still counts; `-E` stops reading;
//! `-r` skips blank records; `-L` joins lines ending in white space.

use super::InputError;
use std::io::BufRead;

/// How records are cut and filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Record delimiter (`\n` by default, `\0` with `-0`, any bytes with `-d`).
    pub delimiter: Vec<u8>,
    /// `-E`: a record equal to this ends the source.
    pub eof: Option<Vec<u8>>,
    /// `-r`: skip records that are empty or only white space.
    pub skip_blank: bool,
    /// `-L`/`-l`: a record ending in white space continues on the next.
    pub continue_lines: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: b"\n".to_vec(),
            eof: None,
            skip_blank: false,
            continue_lines: false,
        }
    }
}

/// Perl's `\s`.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Reads records one at a time from a byte stream.
pub struct RecordReader {
    input: Option<Box<dyn BufRead>>,
    options: ReadOptions,
    what: String,
}

impl RecordReader {
    /// Wraps `input`; `what` names it in error messages.
    pub fn new(input: Box<dyn BufRead>, options: ReadOptions, what: String) -> Self {
        RecordReader {
            input: Some(input),
            options,
            what,
        }
    }

    /// One raw record with its delimiter removed, or `None` at end of input.
    fn raw(&mut self) -> Result<Option<Vec<u8>>, InputError> {
        let Some(input) = self.input.as_mut() else {
            return Ok(None);
        };
        let delim = &self.options.delimiter;
        let mut buf = Vec::new();
        let Some(&last) = delim.last() else {
            return self.paragraph();
        };
        loop {
            let n = input
                .read_until(last, &mut buf)
                .map_err(|source| InputError::Read {
                    what: self.what.clone(),
                    source,
                })?;
            if n == 0 || buf.ends_with(delim) {
                break;
            }
        }
        if buf.is_empty() {
            self.input = None;
            return Ok(None);
        }
        if buf.ends_with(delim) {
            buf.truncate(buf.len() - delim.len());
        }
        Ok(Some(buf))
    }

    /// Perl's paragraph mode (`-d ''`): records are separated by one or
    /// more empty lines, and lose their trailing newlines.
    fn paragraph(&mut self) -> Result<Option<Vec<u8>>, InputError> {
        let Some(input) = self.input.as_mut() else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = input
                .read_until(b'\n', &mut line)
                .map_err(|source| InputError::Read {
                    what: self.what.clone(),
                    source,
                })?;
            if n == 0 {
                self.input = None;
                break;
            }
            if line == b"\n" {
                if buf.is_empty() {
                    continue;
                }
                break;
            }
            buf.extend_from_slice(&line);
        }
        while buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(if buf.is_empty() && self.input.is_none() {
            None
        } else {
            Some(buf)
        })
    }

    /// The next record after `-E`, `-r` and `-L` processing.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, InputError> {
        let mut prepend: Option<Vec<u8>> = None;
        loop {
            let Some(mut record) = self.raw()? else {
                return Ok(prepend);
            };
            if let Some(eof) = &self.options.eof
                && record == *eof
            {
                self.input = None;
                return Ok(prepend);
            }
            if let Some(mut before) = prepend.take() {
                before.extend_from_slice(&record);
                record = before;
            }
            if self.options.skip_blank && record.iter().all(|&b| is_space(b)) {
                continue;
            }
            if self.options.continue_lines && record.last().is_some_and(|&b| is_space(b)) {
                prepend = Some(record);
                continue;
            }
            return Ok(Some(record));
        }
    }
}

impl Iterator for RecordReader {
    type Item = Result<Vec<u8>, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8], options: ReadOptions) -> Vec<Vec<u8>> {
        let r = RecordReader::new(
            Box::new(std::io::Cursor::new(input.to_vec())),
            options,
            "test".into(),
        );
        r.map(|x| x.unwrap()).collect()
    }

    #[test]
    fn splits_and_keeps_last_unterminated() {
        assert_eq!(
            read(b"a\n\nb", ReadOptions::default()),
            vec![b"a".to_vec(), vec![], b"b".to_vec()]
        );
        assert!(read(b"", ReadOptions::default()).is_empty());
    }

    #[test]
    fn multibyte_delimiter_eof_and_blank() {
        let o = ReadOptions {
            delimiter: b"ab".to_vec(),
            eof: Some(b"STOP".to_vec()),
            skip_blank: true,
            continue_lines: false,
        };
        assert_eq!(
            read(b"1ab ab2aSTOPab3", o.clone()),
            vec![b"1".to_vec(), b"2aSTOP".to_vec(), b"3".to_vec()]
        );
        assert_eq!(read(b"1abSTOPab3", o), vec![b"1".to_vec()]);
    }

    #[test]
    fn continuation_lines() {
        let o = ReadOptions {
            continue_lines: true,
            ..ReadOptions::default()
        };
        assert_eq!(read(b"a \nb\nc", o), vec![b"a b".to_vec(), b"c".to_vec()]);
    }
}
