//! The bytes on the pipes.
//!
//! - Work message (parent → the shared work pipe → one worker): one or
//!   more entries `index: u64 LE`, `len: u32 LE`, `len` bytes of encoded
//!   item (none for slice maps). At most [`PIPE_BUF`] bytes in all, so the
//!   write is atomic and, the pipe being in packet mode (`O_DIRECT`), one
//!   `read` by one worker takes exactly one whole message. Several entries
//!   make a chunk: the parent sizes chunks so each is ~0.2 ms of work.
//! - Result frame (worker → its own result pipe → parent):
//!   `len: u32 LE` (of what follows), `index: u64 LE`, `tag: u8`, payload
//!   (the encoded result, or an error or panic message). A result pipe has
//!   one writer, so frames may be of any size.
//! - Shared cells (one pair per worker slot, see
//!   [`parx_sys::fork::SharedCells`]): `busy` = index + 1 of the item the
//!   worker is running (0 = none), `since` = when it started (ns after the
//!   map's base instant). The parent reads them when a worker dies or runs
//!   too long.

/// Largest write the kernel guarantees to be atomic on a pipe (Linux).
pub(crate) const PIPE_BUF: usize = libc::PIPE_BUF;
/// Bytes of a work entry before the item.
pub(crate) const ENTRY_HEADER: usize = 8 + 4;
/// Largest encoded item that fits in one work message.
pub(crate) const MAX_ITEM: usize = PIPE_BUF - ENTRY_HEADER;
/// Bytes of a result frame before the payload.
pub(crate) const RESULT_HEADER: usize = 4 + 8 + 1;

/// Result frame kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Ok = 0,
    Panic = 1,
    Error = 2,
}

pub(crate) fn busy_cell(slot: usize) -> usize {
    2 * slot
}

pub(crate) fn since_cell(slot: usize) -> usize {
    2 * slot + 1
}

/// Writes the header of the work entry that starts at `at` in `msg` (the
/// item's bytes follow it up to the end of `msg`).
pub(crate) fn fill_entry_header(msg: &mut [u8], at: usize, index: usize) {
    let len = (msg.len() - at - ENTRY_HEADER) as u32;
    msg[at..at + 8].copy_from_slice(&(index as u64).to_le_bytes());
    msg[at + 8..at + 12].copy_from_slice(&len.to_le_bytes());
}

/// Splits the first entry off a work message: `(index, item, rest)`.
pub(crate) fn next_entry(msg: &[u8]) -> Option<(usize, &[u8], &[u8])> {
    let (index, rest) = msg.split_first_chunk::<8>()?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    let index = usize::try_from(u64::from_le_bytes(*index)).ok()?;
    let item = rest.get(..len)?;
    Some((index, item, &rest[len..]))
}

/// Writes the header of a result frame into the first [`RESULT_HEADER`]
/// bytes of `frame` (which already holds the payload after them).
pub(crate) fn fill_result_header(frame: &mut [u8], index: usize, tag: Tag) {
    let len = (frame.len() - 4) as u32;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    frame[4..12].copy_from_slice(&(index as u64).to_le_bytes());
    frame[12] = tag as u8;
}

/// One parsed result frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResultFrame<'b> {
    pub index: usize,
    pub tag: Option<Tag>,
    pub payload: &'b [u8],
}

/// Parses the first complete frame of `buf`; returns it and its total
/// length, or `None` if `buf` does not hold a whole frame yet.
pub(crate) fn parse_result(buf: &[u8]) -> Option<(ResultFrame<'_>, usize)> {
    let (len, rest) = buf.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    let body = rest.get(..len)?;
    let (index, body) = body.split_first_chunk::<8>()?;
    let (&tag, payload) = body.split_first()?;
    let tag = match tag {
        0 => Some(Tag::Ok),
        1 => Some(Tag::Panic),
        2 => Some(Tag::Error),
        _ => None,
    };
    let index = u64::from_le_bytes(*index) as usize;
    Some((
        ResultFrame {
            index,
            tag,
            payload,
        },
        4 + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_frame_round_trips() {
        let mut frame = vec![0u8; RESULT_HEADER];
        frame.extend_from_slice(b"payload");
        fill_result_header(&mut frame, 77, Tag::Panic);
        frame.extend_from_slice(b"next frame starts here");
        let (parsed, used) = parse_result(&frame).unwrap();
        assert_eq!(used, RESULT_HEADER + 7);
        assert_eq!(
            parsed,
            ResultFrame {
                index: 77,
                tag: Some(Tag::Panic),
                payload: b"payload"
            }
        );
        assert!(parse_result(&frame[..used - 1]).is_none());
    }

    #[test]
    fn work_message_holds_a_chunk_of_entries() {
        let mut msg = vec![0u8; ENTRY_HEADER];
        msg.extend_from_slice(b"abc");
        fill_entry_header(&mut msg, 0, 5);
        let at = msg.len();
        msg.extend_from_slice(&[0u8; ENTRY_HEADER]);
        fill_entry_header(&mut msg, at, 6);
        let (index, item, rest) = next_entry(&msg).unwrap();
        assert_eq!((index, item), (5, &b"abc"[..]));
        let (index, item, rest) = next_entry(rest).unwrap();
        assert_eq!((index, item), (6, &b""[..]));
        assert!(rest.is_empty());
        assert_eq!(next_entry(&msg[..14]), None);
    }
}
