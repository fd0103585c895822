//! The pickle machine: decodes the opcodes of protocols 0 to 5 into [`Value`]s, with a memo,
//! a mark stack and the allow-listed calls. Nothing is imported or executed: a global is only
//! a name looked up in [`Global::resolve`], and a call only builds a value.

use std::borrow::Cow;
use std::collections::HashMap;

use super::value::{Arena, Global, Obj, ObjId, Value};
use super::{PickleError, numpy, torch};

/// Deepest MARK nesting accepted; real files use three or four levels.
pub(crate) const MAX_MARKS: usize = 1000;
/// Deepest nesting of `torch.save` streams inside storages (`_load_from_bytes`).
pub(crate) const MAX_STREAM_DEPTH: u32 = 4;
/// Longest decimal integer accepted in a text opcode (Python's own default limit).
const MAX_INT_DIGITS: usize = 4300;

/// Who answers persistent ids (BINPERSID): only `torch.save` streams use them.
pub(crate) enum Persistent<'p, 'a> {
    Refuse,
    Legacy(&'p mut HashMap<String, ObjId>),
    Zip(&'p mut torch::ZipStore<'a>),
}

/// State shared by every pickle of one load: the objects and the size budget.
pub(crate) struct Loader<'a> {
    pub arena: Arena<'a>,
    /// Bytes the decoded arrays may still take (see `read_record`).
    pub budget: usize,
    /// How many `torch.save` streams we are inside.
    pub depth: u32,
    /// Refuse any global off the allow-list at once (inside a storage's stream, where only
    /// torch's own objects belong), instead of keeping a placeholder for the field.
    pub strict: bool,
    /// The first global refused with a placeholder, named if the file then fails.
    pub first_refused: Option<String>,
}

fn err(pos: usize, msg: impl Into<String>) -> PickleError {
    PickleError::Malformed {
        pos,
        msg: msg.into(),
    }
}

/// The per-pickle machine state.
struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    /// Start of the opcode being run, for messages.
    op_pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PickleError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(PickleError::Truncated {
                pos: self.pos,
                what,
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, PickleError> {
        Ok(self.take(1, what)?[0])
    }

    fn le_u(&mut self, n: usize, what: &'static str) -> Result<u64, PickleError> {
        let b = self.take(n, what)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    fn len_u(&mut self, n: usize, what: &'static str) -> Result<usize, PickleError> {
        let v = self.le_u(n, what)?;
        usize::try_from(v).map_err(|_| PickleError::Truncated {
            pos: self.pos,
            what,
        })
    }

    /// A text line without its newline.
    fn line(&mut self, what: &'static str) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated {
                pos: self.pos,
                what,
            })?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(err(self.op_pos, "stack underflow: the pickle is corrupt"));
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn top(&self) -> Result<Value, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(err(self.op_pos, "stack underflow: the pickle is corrupt"));
        }
        Ok(*self.stack.last().expect("checked above"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let k = self
            .marks
            .pop()
            .ok_or_else(|| err(self.op_pos, "MARK expected but none is open"))?;
        Ok(self.stack.split_off(k))
    }

    fn memo_get(&self, idx: u64) -> Result<Value, PickleError> {
        self.memo.get(&idx).copied().ok_or_else(|| {
            err(
                self.op_pos,
                format!("memo entry {idx} is read but was never stored"),
            )
        })
    }

    fn memo_put(&mut self, idx: u64) -> Result<(), PickleError> {
        let v = self.top()?;
        self.memo.insert(idx, v);
        Ok(())
    }
}

fn utf8(pos: usize, b: &[u8]) -> Result<&str, PickleError> {
    std::str::from_utf8(b).map_err(|_| err(pos, "a string is not valid UTF-8"))
}

/// Two's-complement little-endian bytes as an i64, or `None` when wider.
fn int_from_le(bytes: &[u8]) -> Option<i64> {
    let neg = bytes.last().is_some_and(|&b| b & 0x80 != 0);
    let fill = if neg { 0xff } else { 0 };
    // Drop redundant sign bytes, then fit in 8.
    let mut n = bytes.len();
    while n > 1 && bytes[n - 1] == fill && (bytes[n - 2] & 0x80 != 0) == neg {
        n -= 1;
    }
    if n == 1 && bytes.first() == Some(&fill) && bytes.len() > 1 {
        return Some(if neg { -1 } else { 0 });
    }
    if n > 8 {
        return None;
    }
    let mut buf = [fill; 8];
    buf[..n].copy_from_slice(&bytes[..n]);
    Some(i64::from_le_bytes(buf))
}

/// Drop redundant sign bytes so equal integers have equal bytes.
fn canonical(mut v: Vec<u8>) -> Vec<u8> {
    while v.len() > 1 {
        let (last, prev) = (v[v.len() - 1], v[v.len() - 2]);
        if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
            v.pop();
        } else {
            break;
        }
    }
    v
}

/// A decimal integer too wide for i64 as little-endian two's-complement bytes.
fn big_decimal(pos: usize, text: &str) -> Result<Vec<u8>, PickleError> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty()
        || digits.len() > MAX_INT_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err(pos, format!("'{text:.40}' is not an integer")));
    }
    let mut mag: Vec<u8> = vec![0];
    for d in digits.bytes() {
        let mut carry = u32::from(d - b'0');
        for byte in mag.iter_mut() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push(carry as u8);
            carry >>= 8;
        }
    }
    mag.push(0); // room for the sign bit
    if neg {
        let mut carry = 1u16;
        for byte in mag.iter_mut() {
            let v = u16::from(!*byte) + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
    }
    Ok(mag)
}

/// Python's `raw-unicode-escape` decoding (protocol 0 UNICODE).
fn raw_unicode_escape(pos: usize, b: &[u8]) -> Result<String, PickleError> {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() && (b[i + 1] == b'u' || b[i + 1] == b'U') {
            let n = if b[i + 1] == b'u' { 4 } else { 8 };
            let hex = b
                .get(i + 2..i + 2 + n)
                .ok_or_else(|| err(pos, "truncated \\u escape"))?;
            let code = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| err(pos, "bad \\u escape"))?;
            // Lone surrogates cannot be represented; Python keeps them, we refuse.
            out.push(char::from_u32(code).ok_or_else(|| err(pos, "bad \\u escape"))?);
            i += 2 + n;
        } else {
            out.push(char::from(b[i]));
            i += 1;
        }
    }
    Ok(out)
}

/// The quoted `repr` of a Python 2 string (protocol 0 STRING), unescaped.
fn string_escape(pos: usize, line: &[u8]) -> Result<Vec<u8>, PickleError> {
    let q = line.first().copied();
    if line.len() < 2 || !matches!(q, Some(b'\'' | b'"')) || line.last().copied() != q {
        return Err(err(pos, "the STRING opcode argument must be quoted"));
    }
    let s = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *s.get(i).ok_or_else(|| err(pos, "trailing backslash"))?;
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = s
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| err(pos, "bad \\x escape"))?;
                out.push(h);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut k = 0;
                while k < 2 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

impl<'a> Loader<'a> {
    pub(crate) fn new(budget: usize) -> Self {
        Loader {
            arena: Arena::default(),
            budget,
            depth: 0,
            strict: false,
            first_refused: None,
        }
    }

    /// Run one pickle of `data` starting at `start`; returns its value and the end offset.
    pub(crate) fn run(
        &mut self,
        data: &'a [u8],
        start: usize,
        persistent: &mut Persistent<'_, 'a>,
    ) -> Result<(Value, usize), PickleError> {
        let mut m = Machine {
            data,
            pos: start,
            op_pos: start,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        };
        loop {
            m.op_pos = m.pos;
            let op = m.byte("the next opcode (no STOP)")?;
            match op {
                b'(' => {
                    if m.marks.len() >= MAX_MARKS {
                        return Err(PickleError::Limit(format!(
                            "MARKs nested deeper than {MAX_MARKS} levels"
                        )));
                    }
                    m.marks.push(m.stack.len());
                }
                b'.' => {
                    let v = m.pop()?;
                    return Ok((v, m.pos));
                }
                b'0' => {
                    if m.stack.len() > m.fence() {
                        m.stack.pop();
                    } else {
                        m.pop_mark()?;
                    }
                }
                b'1' => {
                    m.pop_mark()?;
                }
                b'2' => {
                    let v = m.top()?;
                    m.stack.push(v);
                }
                b'F' => {
                    let l = m.line("FLOAT")?;
                    let s = utf8(m.op_pos, l)?.trim();
                    let f: f64 = s
                        .parse()
                        .map_err(|_| err(m.op_pos, format!("'{s:.40}' is not a float")))?;
                    m.stack.push(Value::Float(f));
                }
                b'I' | b'L' => {
                    let l = m.line("INT")?;
                    let s = utf8(m.op_pos, l)?.trim();
                    let s = if op == b'L' {
                        s.strip_suffix('L').unwrap_or(s)
                    } else {
                        s
                    };
                    let v = match s {
                        "00" if op == b'I' => Value::Bool(false),
                        "01" if op == b'I' => Value::Bool(true),
                        _ => match s.parse::<i64>() {
                            Ok(i) => Value::Int(i),
                            Err(_) => {
                                let big = big_decimal(m.op_pos, s)?;
                                self.arena.push(Obj::BigInt(canonical(big)))
                            }
                        },
                    };
                    m.stack.push(v);
                }
                b'J' => {
                    let v = m.le_u(4, "BININT")? as u32 as i32;
                    m.stack.push(Value::Int(i64::from(v)));
                }
                b'K' => {
                    let v = m.byte("BININT1")?;
                    m.stack.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let v = m.le_u(2, "BININT2")?;
                    m.stack.push(Value::Int(v as i64));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        usize::from(m.byte("LONG1 size")?)
                    } else {
                        let n = m.le_u(4, "LONG4 size")? as u32 as i32;
                        usize::try_from(n).map_err(|_| err(m.op_pos, "negative LONG4 size"))?
                    };
                    let b = m.take(n, "LONG bytes")?;
                    let v = match int_from_le(b) {
                        Some(i) => Value::Int(i),
                        None if b.is_empty() => Value::Int(0),
                        None => self.arena.push(Obj::BigInt(canonical(b.to_vec()))),
                    };
                    m.stack.push(v);
                }
                b'N' => m.stack.push(Value::None),
                0x88 => m.stack.push(Value::Bool(true)),
                0x89 => m.stack.push(Value::Bool(false)),
                b'G' => {
                    let b = m.take(8, "BINFLOAT")?;
                    let f = f64::from_be_bytes(b.try_into().expect("8 bytes"));
                    m.stack.push(Value::Float(f));
                }
                b'S' => {
                    let l = m.line("STRING")?;
                    let s = string_escape(m.op_pos, l.trim_ascii_end())?;
                    let v = self.arena.push(Obj::Bytes(Cow::Owned(s)));
                    m.stack.push(v);
                }
                b'T' | b'U' => {
                    let n = if op == b'T' {
                        let n = m.le_u(4, "BINSTRING size")? as u32 as i32;
                        usize::try_from(n).map_err(|_| err(m.op_pos, "negative BINSTRING size"))?
                    } else {
                        usize::from(m.byte("SHORT_BINSTRING size")?)
                    };
                    let b = m.take(n, "string bytes")?;
                    let v = self.arena.push(Obj::Bytes(Cow::Borrowed(b)));
                    m.stack.push(v);
                }
                b'V' => {
                    let l = m.line("UNICODE")?;
                    let s = raw_unicode_escape(m.op_pos, l)?;
                    let v = self.arena.push(Obj::Str(Cow::Owned(s)));
                    m.stack.push(v);
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => m.len_u(4, "BINUNICODE size")?,
                        0x8c => usize::from(m.byte("SHORT_BINUNICODE size")?),
                        _ => m.len_u(8, "BINUNICODE8 size")?,
                    };
                    let b = m.take(n, "string bytes")?;
                    let s = utf8(m.op_pos, b)?;
                    let v = self.arena.push(Obj::Str(Cow::Borrowed(s)));
                    m.stack.push(v);
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => m.len_u(4, "BINBYTES size")?,
                        b'C' => usize::from(m.byte("SHORT_BINBYTES size")?),
                        _ => m.len_u(8, "BINBYTES8 size")?,
                    };
                    let b = m.take(n, "bytes")?;
                    let v = self.arena.push(Obj::Bytes(Cow::Borrowed(b)));
                    m.stack.push(v);
                }
                b')' => {
                    let v = self.arena.push(Obj::Tuple(Vec::new()));
                    m.stack.push(v);
                }
                b't' => {
                    let items = m.pop_mark()?;
                    let v = self.arena.push(Obj::Tuple(items));
                    m.stack.push(v);
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if m.stack.len() < m.fence() + n {
                        return Err(err(m.op_pos, "stack underflow: the pickle is corrupt"));
                    }
                    let items = m.stack.split_off(m.stack.len() - n);
                    let v = self.arena.push(Obj::Tuple(items));
                    m.stack.push(v);
                }
                b']' => {
                    let v = self.arena.push(Obj::List(Vec::new()));
                    m.stack.push(v);
                }
                b'l' | 0x91 => {
                    let items = m.pop_mark()?;
                    let v = self.arena.push(Obj::List(items));
                    m.stack.push(v);
                }
                0x8f => {
                    let v = self.arena.push(Obj::List(Vec::new()));
                    m.stack.push(v);
                }
                b'}' => {
                    let v = self.arena.push(Obj::Dict(Vec::new()));
                    m.stack.push(v);
                }
                b'd' => {
                    let items = m.pop_mark()?;
                    let pairs = self.pairs(m.op_pos, &items)?;
                    let v = self.arena.push(Obj::Dict(pairs));
                    m.stack.push(v);
                }
                b'a' => {
                    let v = m.pop()?;
                    let list = m.top()?;
                    self.extend_list(m.op_pos, list, &[v])?;
                }
                b'e' | 0x90 => {
                    let items = m.pop_mark()?;
                    let list = m.top()?;
                    self.extend_list(m.op_pos, list, &items)?;
                }
                b's' => {
                    let v = m.pop()?;
                    let k = m.pop()?;
                    let d = m.top()?;
                    self.extend_dict(m.op_pos, d, &[k, v])?;
                }
                b'u' => {
                    let items = m.pop_mark()?;
                    let d = m.top()?;
                    self.extend_dict(m.op_pos, d, &items)?;
                }
                b'g' => {
                    let l = m.line("GET")?;
                    let idx = utf8(m.op_pos, l)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| err(m.op_pos, "GET index is not a number"))?;
                    let v = m.memo_get(idx)?;
                    m.stack.push(v);
                }
                b'h' => {
                    let idx = u64::from(m.byte("BINGET")?);
                    let v = m.memo_get(idx)?;
                    m.stack.push(v);
                }
                b'j' => {
                    let idx = m.le_u(4, "LONG_BINGET")?;
                    let v = m.memo_get(idx)?;
                    m.stack.push(v);
                }
                b'p' => {
                    let l = m.line("PUT")?;
                    let idx = utf8(m.op_pos, l)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| err(m.op_pos, "PUT index is not a number"))?;
                    m.memo_put(idx)?;
                }
                b'q' => {
                    let idx = u64::from(m.byte("BINPUT")?);
                    m.memo_put(idx)?;
                }
                b'r' => {
                    let idx = m.le_u(4, "LONG_BINPUT")?;
                    m.memo_put(idx)?;
                }
                0x94 => {
                    let idx = m.memo.len() as u64;
                    m.memo_put(idx)?;
                }
                b'c' | b'i' => {
                    let module = utf8(m.op_pos, m.line("GLOBAL module")?)?;
                    let name = utf8(m.op_pos, m.line("GLOBAL name")?)?;
                    let gv = self.global(module, name)?;
                    if op == b'c' {
                        m.stack.push(gv);
                    } else {
                        let args = m.pop_mark()?;
                        let v = self.invoke(m.op_pos, gv, &args)?;
                        m.stack.push(v);
                    }
                }
                0x93 => {
                    let name = m.pop()?;
                    let module = m.pop()?;
                    let (Some(module), Some(name)) =
                        (self.arena.as_str(module), self.arena.as_str(name))
                    else {
                        return Err(err(m.op_pos, "STACK_GLOBAL needs two strings"));
                    };
                    let (module, name) = (module.to_owned(), name.to_owned());
                    let v = self.global(&module, &name)?;
                    m.stack.push(v);
                }
                b'R' | 0x81 => {
                    let args = m.pop()?;
                    let callable = m.pop()?;
                    let args = self
                        .arena
                        .as_seq(args)
                        .ok_or_else(|| err(m.op_pos, "call arguments are not a tuple"))?
                        .to_vec();
                    let v = self.invoke(m.op_pos, callable, &args)?;
                    m.stack.push(v);
                }
                0x92 => {
                    let kwargs = m.pop()?;
                    let args = m.pop()?;
                    let callable = m.pop()?;
                    let no_kwargs = match kwargs {
                        Value::Obj(id) => {
                            matches!(self.arena.get(id), Obj::Dict(d) if d.is_empty())
                        }
                        _ => false,
                    };
                    if !no_kwargs && !self.is_refused(callable) {
                        return Err(err(m.op_pos, "NEWOBJ_EX with keyword arguments"));
                    }
                    let args = self
                        .arena
                        .as_seq(args)
                        .ok_or_else(|| err(m.op_pos, "call arguments are not a tuple"))?
                        .to_vec();
                    let v = self.invoke(m.op_pos, callable, &args)?;
                    m.stack.push(v);
                }
                b'o' => {
                    let items = m.pop_mark()?;
                    let (&callable, args) = items
                        .split_first()
                        .ok_or_else(|| err(m.op_pos, "OBJ without a class"))?;
                    let v = self.invoke(m.op_pos, callable, args)?;
                    m.stack.push(v);
                }
                b'b' => {
                    let state = m.pop()?;
                    let obj = m.top()?;
                    self.build(m.op_pos, obj, state)?;
                }
                b'Q' => {
                    let pid = m.pop()?;
                    let v = torch::persistent_load(self, m.op_pos, pid, persistent)?;
                    m.stack.push(v);
                }
                b'P' => {
                    let l = m.line("PERSID")?;
                    let s = utf8(m.op_pos, l)?.to_owned();
                    let pid = self.arena.push(Obj::Str(Cow::Owned(s)));
                    let v = torch::persistent_load(self, m.op_pos, pid, persistent)?;
                    m.stack.push(v);
                }
                0x80 => {
                    let proto = m.byte("PROTO")?;
                    if proto > 5 {
                        return Err(PickleError::Unsupported {
                            pos: m.op_pos,
                            msg: format!("pickle protocol {proto} (this reader knows 0 to 5)"),
                        });
                    }
                }
                0x95 => {
                    let n = m.le_u(8, "FRAME size")?;
                    let left = (m.data.len() - m.pos) as u64;
                    if n > left {
                        return Err(PickleError::Truncated {
                            pos: m.op_pos,
                            what: "a FRAME (the frame claims more bytes than the file has)",
                        });
                    }
                }
                0x82..=0x84 => {
                    return Err(PickleError::Unsupported {
                        pos: m.op_pos,
                        msg: "extension registry codes (EXT1/EXT2/EXT4)".into(),
                    });
                }
                0x97 | 0x98 => {
                    return Err(PickleError::Unsupported {
                        pos: m.op_pos,
                        msg: "out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER): save the file \
                              with plain pickle.dump, without buffer_callback"
                            .into(),
                    });
                }
                other => {
                    return Err(PickleError::UnknownOpcode {
                        op: other,
                        pos: m.op_pos,
                    });
                }
            }
        }
    }

    /// A global as a value: an allow-listed one, or a refusal naming it. Refusing here
    /// rather than failing the load lets one unreadable field (a `pandas.Series`, say) be
    /// reported on that field while the rest of the file is read; nothing is imported either
    /// way, and a refusal that reaches the top of the file fails it ([`super::record`]).
    fn global(&mut self, module: &str, name: &str) -> Result<Value, PickleError> {
        if let Some(g) = Global::resolve(module, name) {
            return Ok(self.arena.push(Obj::Global(g)));
        }
        let name = format!("{module}.{name}");
        if self.strict {
            return Err(PickleError::RefusedGlobal { name });
        }
        self.first_refused.get_or_insert_with(|| name.clone());
        Ok(self.arena.push(Obj::Refused(name)))
    }

    fn is_refused(&self, v: Value) -> bool {
        matches!(v, Value::Obj(id) if matches!(self.arena.get(id), Obj::Refused(_)))
    }

    /// Call `callable` on `args`. A refused callable, or an allow-listed one given a refused
    /// argument, gives that refusal back: the value stays unreadable, and nothing runs.
    fn invoke(
        &mut self,
        pos: usize,
        callable: Value,
        args: &[Value],
    ) -> Result<Value, PickleError> {
        if self.is_refused(callable) {
            return Ok(callable);
        }
        if let Some(&refused) = args.iter().find(|&&a| self.is_refused(a)) {
            return Ok(refused);
        }
        let g = self.global_of(pos, callable)?;
        self.call(pos, g, args)
    }

    fn global_of(&self, pos: usize, v: Value) -> Result<Global, PickleError> {
        match v {
            Value::Obj(id) => match self.arena.get(id) {
                Obj::Global(g) => Ok(*g),
                other => Err(err(
                    pos,
                    format!("a {} is called like a function", other.kind()),
                )),
            },
            other => Err(err(
                pos,
                format!("a {} is called like a function", self.arena.describe(other)),
            )),
        }
    }

    fn pairs(&self, pos: usize, items: &[Value]) -> Result<Vec<(Value, Value)>, PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(err(pos, "a dict needs key/value pairs"));
        }
        Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }

    fn extend_list(&mut self, pos: usize, list: Value, items: &[Value]) -> Result<(), PickleError> {
        if let Value::Obj(id) = list {
            match self.arena.get_mut(id) {
                Obj::List(l) => {
                    l.extend_from_slice(items);
                    return Ok(());
                }
                // The items of an object that is not loaded are not kept either.
                Obj::Refused(_) => return Ok(()),
                _ => {}
            }
        }
        Err(err(
            pos,
            format!("APPEND to a {}", self.arena.describe(list)),
        ))
    }

    fn extend_dict(&mut self, pos: usize, dict: Value, items: &[Value]) -> Result<(), PickleError> {
        let pairs = self.pairs(pos, items)?;
        if let Value::Obj(id) = dict {
            match self.arena.get_mut(id) {
                Obj::Dict(d) => {
                    d.extend(pairs);
                    return Ok(());
                }
                Obj::Refused(_) => return Ok(()),
                _ => {}
            }
        }
        Err(err(
            pos,
            format!("SETITEM on a {}", self.arena.describe(dict)),
        ))
    }

    /// BUILD: set the state of an object made by a call.
    fn build(&mut self, pos: usize, obj: Value, state: Value) -> Result<(), PickleError> {
        let Value::Obj(id) = obj else {
            return Err(err(pos, format!("BUILD on a {}", self.arena.describe(obj))));
        };
        match self.arena.get(id) {
            Obj::NumpyPending => numpy::set_array_state(self, pos, id, state),
            Obj::NumpyDtype(_) => numpy::set_dtype_state(self, pos, id, state),
            Obj::Dict(_) if state == Value::None => Ok(()),
            // An OrderedDict's instance attributes, such as the `_metadata` (layer versions)
            // of a torch state dict: nothing SceneLab keeps, and setting them runs nothing.
            Obj::Dict(_) if matches!(state, Value::Obj(s) if matches!(self.arena.get(s), Obj::Dict(_))) => {
                Ok(())
            }
            Obj::Refused(_) => Ok(()),
            other => Err(err(
                pos,
                format!(
                    "setting the state (BUILD) of a {} is not supported",
                    other.kind()
                ),
            )),
        }
    }

    /// Run an allow-listed callable on its arguments.
    fn call(&mut self, pos: usize, g: Global, args: &[Value]) -> Result<Value, PickleError> {
        match g {
            Global::RebuildTensor | Global::RebuildTensorV2 | Global::RebuildTensorV3 => {
                torch::rebuild_tensor(self, pos, g, args)
            }
            Global::LoadFromBytes => torch::load_from_bytes(self, pos, args),
            Global::RebuildParameter | Global::RebuildParameterWithState => match args.first() {
                Some(&data) if matches!(data, Value::Obj(id) if matches!(self.arena.get(id), Obj::Tensor(_))) => {
                    Ok(data)
                }
                _ => Err(err(
                    pos,
                    "an nn.Parameter rebuilt from something that is not a tensor",
                )),
            },
            Global::RebuildFromTypeV2 => {
                let [func, class, func_args, _state] = args else {
                    return Err(err(
                        pos,
                        "_rebuild_from_type_v2 takes (func, type, args, state)",
                    ));
                };
                if !matches!(*class, Value::Obj(id) if matches!(self.arena.get(id), Obj::Global(Global::TensorClass)))
                {
                    return Err(err(
                        pos,
                        "a tensor of a subclass other than torch.Tensor or nn.Parameter",
                    ));
                }
                let func = self.global_of(pos, *func)?;
                if !matches!(
                    func,
                    Global::RebuildTensor
                        | Global::RebuildTensorV2
                        | Global::RebuildTensorV3
                        | Global::RebuildParameter
                        | Global::RebuildParameterWithState
                ) {
                    return Err(err(
                        pos,
                        "_rebuild_from_type_v2 of something that is not a tensor rebuild",
                    ));
                }
                let func_args = self
                    .arena
                    .as_seq(*func_args)
                    .ok_or_else(|| err(pos, "_rebuild_from_type_v2 arguments are not a tuple"))?
                    .to_vec();
                self.call(pos, func, &func_args)
            }
            Global::OrderedDict => match args {
                [] => Ok(self.arena.push(Obj::Dict(Vec::new()))),
                [items] => {
                    let seq = self
                        .arena
                        .as_seq(*items)
                        .ok_or_else(|| err(pos, "OrderedDict of a non-list"))?;
                    let mut pairs = Vec::with_capacity(seq.len());
                    for &p in seq {
                        match self.arena.as_seq(p) {
                            Some(&[k, v]) => pairs.push((k, v)),
                            _ => return Err(err(pos, "OrderedDict items must be pairs")),
                        }
                    }
                    Ok(self.arena.push(Obj::Dict(pairs)))
                }
                _ => Err(err(pos, "OrderedDict takes at most one argument")),
            },
            Global::NumpyReconstruct => numpy::reconstruct(self, pos, args),
            Global::NumpyDtype => numpy::make_dtype(self, pos, args),
            Global::NumpyFromBuffer => numpy::from_buffer(self, pos, args),
            Global::NumpyScalar => numpy::scalar(self, pos, args),
            Global::CodecsEncode => match args {
                [s, enc] => {
                    let enc = self.arena.as_str(*enc).unwrap_or("").to_ascii_lowercase();
                    let s = match s {
                        Value::Obj(id) => match self.arena.get(*id) {
                            Obj::Str(s) => s,
                            _ => return Err(err(pos, "_codecs.encode of a non-string")),
                        },
                        _ => return Err(err(pos, "_codecs.encode of a non-string")),
                    };
                    let bytes = encode(pos, s, &enc)?;
                    Ok(self.arena.push(Obj::Bytes(Cow::Owned(bytes))))
                }
                _ => Err(err(pos, "_codecs.encode takes (str, encoding)")),
            },
            Global::Bytes | Global::ByteArray => match args {
                [] => Ok(self.arena.push(Obj::Bytes(Cow::Borrowed(&[])))),
                [b] => match b {
                    Value::Obj(id) => match self.arena.get(*id) {
                        Obj::Bytes(b) => {
                            let b = b.clone();
                            Ok(self.arena.push(Obj::Bytes(b)))
                        }
                        _ => Err(err(pos, "bytes() of an unsupported value")),
                    },
                    _ => Err(err(pos, "bytes() of an unsupported value")),
                },
                [s, enc] => self.call(pos, Global::CodecsEncode, &[*s, *enc]),
                _ => Err(err(pos, "bytes() takes at most two arguments")),
            },
            Global::Set | Global::FrozenSet => match args {
                [] => Ok(self.arena.push(Obj::List(Vec::new()))),
                [items] => {
                    let seq = self
                        .arena
                        .as_seq(*items)
                        .ok_or_else(|| err(pos, "set of a non-list"))?
                        .to_vec();
                    Ok(self.arena.push(Obj::List(seq)))
                }
                _ => Err(err(pos, "set takes at most one argument")),
            },
            Global::StorageType(_)
            | Global::TorchDtype(_)
            | Global::NumpyNdarray
            | Global::TensorClass => Err(err(
                pos,
                "calling a torch/numpy type directly is not supported",
            )),
        }
    }
}

/// `str.encode(encoding)` for the encodings pickles use to carry bytes.
fn encode(pos: usize, s: &str, encoding: &str) -> Result<Vec<u8>, PickleError> {
    match encoding {
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => latin1(pos, s),
        "utf-8" | "utf8" => Ok(s.as_bytes().to_vec()),
        "ascii" if s.is_ascii() => Ok(s.as_bytes().to_vec()),
        other => Err(err(
            pos,
            format!("_codecs.encode with encoding '{other:.20}'"),
        )),
    }
}

/// Latin-1 bytes of a string whose characters are all below U+0100, straight from its UTF-8.
fn latin1(pos: usize, s: &str) -> Result<Vec<u8>, PickleError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            out.push(c);
            i += 1;
        } else if c == 0xc2 || c == 0xc3 {
            // Valid UTF-8 (checked when the string was read) guarantees a continuation byte.
            out.push(((c & 0x1f) << 6) | (b[i + 1] & 0x3f));
            i += 2;
        } else {
            return Err(err(pos, "latin-1 bytes hold a character above U+00FF"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_from_le_bytes() {
        assert_eq!(int_from_le(&[0xff]), Some(-1));
        assert_eq!(int_from_le(&[0x00, 0x80, 0x01, 0x00]), Some(98304));
        assert_eq!(int_from_le(&[0xff, 0x00]), Some(255));
        assert_eq!(int_from_le(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Some(1));
        assert_eq!(int_from_le(&[0, 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn big_decimal_matches_long1() {
        // torch's magic number, as LONG1 writes it.
        let magic = b"l\xfc\x9cF\xf9 j\xa8P\x19";
        let text = "119547037146038801333356";
        assert_eq!(canonical(big_decimal(0, text).unwrap()), magic);
    }

    #[test]
    fn latin1_round_trip() {
        let s: String = (0u8..=255).map(char::from).collect();
        assert_eq!(latin1(0, &s).unwrap(), (0u8..=255).collect::<Vec<_>>());
        assert!(latin1(0, "\u{100}").is_err());
    }
}
