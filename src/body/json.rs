//! A single-pass reader for one JSON object: every number keeps its exact text, strings
//! without escapes borrow from the body, and a repeated name is an error.
use std::borrow::Cow;
use std::fmt;

use crate::value::{Fields, Value};

/// serde_json's limit: the 128th nested array or object is an error.
const MAX_DEPTH: u32 = 128;

/// Objects with more members than this are checked for repeated names by sorting, once
/// complete; smaller ones as each name is read.
const SMALL_OBJECT: usize = 32;

/// What is wrong, in serde_json's words.
#[derive(Debug)]
enum Code {
    EofWhileParsingObject,
    EofWhileParsingList,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    TrailingCharacters,
    UnexpectedEndOfHexEscape,
    RecursionLimitExceeded,
    NotAnObject(&'static str),
    DuplicateField(String),
    TooManyMembers,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Code::EofWhileParsingObject => "EOF while parsing an object",
            Code::EofWhileParsingList => "EOF while parsing a list",
            Code::EofWhileParsingString => "EOF while parsing a string",
            Code::EofWhileParsingValue => "EOF while parsing a value",
            Code::ExpectedColon => "expected `:`",
            Code::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Code::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Code::ExpectedSomeIdent => "expected ident",
            Code::ExpectedSomeValue => "expected value",
            Code::InvalidEscape => "invalid escape",
            Code::InvalidNumber => "invalid number",
            Code::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Code::KeyMustBeAString => "key must be a string",
            Code::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Code::TrailingComma => "trailing comma",
            Code::TrailingCharacters => "trailing characters",
            Code::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
            Code::RecursionLimitExceeded => "recursion limit exceeded",
            Code::NotAnObject(kind) => {
                return write!(f, "invalid type: {kind}, expected a JSON object")
            }
            Code::DuplicateField(name) => return write!(f, "duplicate field `{name}`"),
            Code::TooManyMembers => {
                return write!(f, "more than {} members in an object", super::MAX_MEMBERS)
            }
        })
    }
}

/// A syntax error and the byte it was found at.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    code: Code,
    line: usize,
    column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.code, self.line, self.column
        )
    }
}

type Result<T> = std::result::Result<T, Box<(Code, usize)>>;

#[cold]
#[inline(never)]
fn fail<T>(code: Code, at: usize) -> Result<T> {
    Err(Box::new((code, at)))
}

/// Parses `text`, which must hold one JSON object and nothing else but whitespace.
pub(super) fn parse(text: &str) -> std::result::Result<Fields<'_>, SyntaxError> {
    let mut p = Parser::at(text, 0);
    let fields = p.document();
    fields.map_err(|e| located(text, *e))
}

/// Parses `text`, which must hold one JSON value of any kind and nothing else but whitespace.
pub(crate) fn parse_value(text: &str) -> std::result::Result<Value<'_>, SyntaxError> {
    let mut p = Parser::at(text, 0);
    let value = (|| {
        p.skip_whitespace();
        let value = p.value()?;
        p.skip_whitespace();
        if p.pos < p.bytes.len() {
            return fail(Code::TrailingCharacters, p.pos);
        }
        Ok(value)
    })();
    value.map_err(|e| located(text, *e))
}

/// An error with the line and column of the byte it was found at.
fn located(text: &str, (code, at): (Code, usize)) -> SyntaxError {
    // The 1-based line and column of the byte at `at`, as serde_json counts them.
    let before = &text.as_bytes()[..at.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before[..line_start].iter().filter(|&&b| b == b'\n').count();
    let column = (at + 1).min(text.len()) - line_start;
    SyntaxError { code, line, column }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// How many more arrays or objects may open.
    depth: u32,
}

/// The index of the first `"`, `\` or control character at or after `i`, or the length.
#[inline(always)]
pub(crate) fn scan_string(bytes: &[u8], mut i: usize) -> usize {
    // Sixteen bytes at a time where SSE2 is always there (every x86-64); the words below
    // elsewhere (wasm) and for the tail, and in the fuzzer (fuzz/), which stands for wasm.
    #[cfg(all(target_arch = "x86_64", not(fuzzing)))]
    {
        // SAFETY: SSE2 is part of every x86-64 target.
        match unsafe { sse2::scan_string(bytes, i) } {
            Ok(found) => return found,
            Err(tail) => i = tail,
        }
    }
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero (quote, backslash) or below 0x20. Only bytes
        // above a true match can be falsely flagged, so the lowest flag is exact.
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(all(target_arch = "x86_64", not(fuzzing)))]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// [`super::scan_string`] sixteen bytes at a time: the index of the first `"`, `\` or
    /// control character at or after `i`, or (as an error) where fewer than sixteen bytes
    /// are left to look at.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn scan_string(bytes: &[u8], mut i: usize) -> Result<usize, usize> {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let below_space = _mm_set1_epi8(0x1F);
        while let Some(chunk) = bytes.get(i..i + 16) {
            // SAFETY: `chunk` is 16 readable bytes, and this load needs no alignment.
            let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
            let found = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                _mm_cmpeq_epi8(_mm_max_epu8(v, below_space), below_space),
            );
            let mask = _mm_movemask_epi8(found) as u32;
            if mask != 0 {
                return Ok(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
        Err(i)
    }
}

impl<'a> Parser<'a> {
    /// A reader of `text` from byte `pos`.
    fn at(text: &'a str, pos: usize) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos,
            depth: MAX_DEPTH,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// `text[start..end]`; both are at ASCII bytes or the end, so this never fails.
    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        match self.text.get(start..end) {
            Some(s) => Ok(s),
            None => fail(Code::EofWhileParsingValue, end),
        }
    }

    fn document(&mut self) -> Result<Fields<'a>> {
        self.skip_whitespace();
        let kind = match self.peek() {
            Some(b'{') => {
                let hint = (self.bytes.len() / 32).clamp(4, 64);
                let fields = self.object(hint)?;
                self.skip_whitespace();
                if self.pos < self.bytes.len() {
                    return fail(Code::TrailingCharacters, self.pos);
                }
                return Ok(fields);
            }
            None => return fail(Code::EofWhileParsingValue, self.pos),
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b'-' | b'0'..=b'9') => "a number",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            Some(_) => return fail(Code::ExpectedSomeValue, self.pos),
        };
        fail(Code::NotAnObject(kind), self.pos)
    }

    fn value(&mut self) -> Result<Value<'a>> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(|n| Value::Number(Cow::Borrowed(n))),
            Some(b'{') => self.object(0).map(Value::Object),
            Some(b'[') => self.array().map(Value::Array),
            Some(b't') => self.ident(b"true", Value::Bool(true)),
            Some(b'f') => self.ident(b"false", Value::Bool(false)),
            Some(b'n') => self.ident(b"null", Value::Null),
            Some(_) => fail(Code::ExpectedSomeValue, self.pos),
            None => fail(Code::EofWhileParsingValue, self.pos),
        }
    }

    fn ident(&mut self, word: &[u8], value: Value<'a>) -> Result<Value<'a>> {
        for &expected in word {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return fail(Code::ExpectedSomeIdent, self.pos),
                None => return fail(Code::EofWhileParsingValue, self.pos),
            }
        }
        Ok(value)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// At least one digit, then any more.
    fn some_digits(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.pos += 1;
                self.digits();
                Ok(())
            }
            Some(_) => fail(Code::InvalidNumber, self.pos),
            None => fail(Code::EofWhileParsingValue, self.pos),
        }
    }

    /// A number's exact text: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return fail(Code::InvalidNumber, self.pos);
                }
            }
            _ => self.some_digits()?,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        self.slice(start, self.pos)
    }

    /// The contents of a string without escapes (the opening quote read), and past its
    /// closing quote; `None`, having moved nothing, for any other string. Returned in
    /// registers, where a `Cow` goes through memory: the readers below build their values
    /// from it in place.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<&'a str> {
        let end = scan_string(self.bytes, self.pos);
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        debug_assert!(self.pos >= 1 && self.bytes[self.pos - 1] == b'"' && self.pos <= end);
        // SAFETY: `end` is a `"` of `text`, so within it and at a character boundary, and so
        // is `self.pos`: just past the opening `"` (this is only called there) and not past
        // `end` (`scan_string` only moves forward). Checking both boundaries again was
        // measured: about 900 of the 21,000 instructions of a native `receive`.
        let text = unsafe { self.text.get_unchecked(self.pos..end) };
        self.pos = end + 1;
        Some(text)
    }

    /// A string's contents; the opening quote has been read. Borrowed unless it has
    /// escapes.
    #[inline]
    fn string(&mut self) -> Result<Cow<'a, str>> {
        let start = self.pos;
        let end = scan_string(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                self.slice(start, end).map(Cow::Borrowed)
            }
            Some(b'\\') => {
                self.pos = end;
                self.escaped_string(start).map(Cow::Owned)
            }
            Some(_) => fail(Code::ControlCharacterWhileParsingString, end),
            None => fail(Code::EofWhileParsingString, end),
        }
    }

    /// The rest of a string that has an escape at `self.pos`, unescaped.
    #[cold]
    fn escaped_string(&mut self, start: usize) -> Result<String> {
        let mut out = String::with_capacity(self.pos - start + 16);
        let mut run = start;
        loop {
            let end = scan_string(self.bytes, self.pos);
            out.push_str(self.slice(run, end)?);
            match self.bytes.get(end) {
                Some(b'"') => {
                    self.pos = end + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos = end + 1;
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                Some(_) => return fail(Code::ControlCharacterWhileParsingString, end),
                None => return fail(Code::EofWhileParsingString, end),
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let Some(b) = self.peek() else {
            return fail(Code::EofWhileParsingString, self.pos);
        };
        self.pos += 1;
        out.push(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return fail(Code::InvalidEscape, self.pos - 1),
        });
        Ok(())
    }

    /// The character of a `\u` escape (and of the `\u` low surrogate following a high one).
    fn unicode_escape(&mut self) -> Result<char> {
        let n = self.hex4()?;
        let code = match n {
            0xDC00..=0xDFFF => return fail(Code::LoneLeadingSurrogateInHexEscape, self.pos),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        Some(b) if b == expected => self.pos += 1,
                        Some(_) => return fail(Code::UnexpectedEndOfHexEscape, self.pos + 1),
                        None => return fail(Code::EofWhileParsingString, self.pos),
                    }
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return fail(Code::LoneLeadingSurrogateInHexEscape, self.pos);
                }
                0x1_0000 + ((u32::from(n) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            n => u32::from(n),
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => fail(Code::LoneLeadingSurrogateInHexEscape, self.pos),
        }
    }

    fn hex4(&mut self) -> Result<u16> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return fail(Code::EofWhileParsingString, self.bytes.len());
        };
        let mut n = 0u16;
        for (i, &d) in digits.iter().enumerate() {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return fail(Code::InvalidEscape, self.pos + i),
            };
            n = n << 4 | u16::from(v);
        }
        self.pos += 4;
        Ok(n)
    }

    /// Opens an array or object.
    fn enter(&mut self) -> Result<()> {
        self.depth -= 1;
        if self.depth == 0 {
            return fail(Code::RecursionLimitExceeded, self.pos);
        }
        self.pos += 1;
        Ok(())
    }

    fn array(&mut self) -> Result<Vec<Value<'a>>> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth += 1;
            return Ok(items);
        }
        loop {
            // As in `object`: a plain string pushed where it is read.
            if self.peek() == Some(b'"') {
                self.pos += 1;
                match self.plain_string() {
                    Some(text) => items.push(Value::String(Cow::Borrowed(text))),
                    None => items.push(Value::String(self.string()?)),
                }
            } else {
                items.push(self.value()?);
            }
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        return fail(Code::TrailingComma, self.pos);
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    self.depth += 1;
                    return Ok(items);
                }
                Some(_) => return fail(Code::ExpectedListCommaOrEnd, self.pos),
                None => return fail(Code::EofWhileParsingList, self.pos),
            }
        }
    }

    /// Stores a member just read, or refuses its repeated name.
    #[inline(always)]
    fn add(
        &self,
        members: &mut Vec<(Cow<'a, str>, Value<'a>)>,
        name: Cow<'a, str>,
        value: Value<'a>,
        repeated: bool,
    ) -> Result<()> {
        if repeated {
            return fail(Code::DuplicateField(name.into_owned()), self.pos);
        }
        members.push((name, value));
        Ok(())
    }

    /// Reads and stores a member's value other than a string without escapes (past the
    /// opening quote if `quoted`). Out of line, so that `object` stores its common case in
    /// place rather than through a temporary shared with this one (measured natively: a
    /// few percent).
    #[inline(never)]
    fn add_other(
        &mut self,
        members: &mut Vec<(Cow<'a, str>, Value<'a>)>,
        name: Cow<'a, str>,
        quoted: bool,
        repeated: bool,
    ) -> Result<()> {
        let value = if quoted {
            Value::String(self.string()?)
        } else {
            self.value()?
        };
        self.add(members, name, value, repeated)
    }

    /// An object, with room for `capacity` members to begin with.
    fn object(&mut self, capacity: usize) -> Result<Fields<'a>> {
        self.enter()?;
        let mut members: Vec<(Cow<'a, str>, Value<'a>)> = Vec::with_capacity(capacity);
        // One bit per hash of the names read so far: a name whose bit is clear is new.
        let mut seen = 0u64;
        self.skip_whitespace();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.depth += 1;
                return Ok(Fields::from_vec(members));
            }
            Some(b'"') => {}
            Some(_) => return fail(Code::KeyMustBeAString, self.pos),
            None => return fail(Code::EofWhileParsingObject, self.pos),
        }
        loop {
            // At the name's opening quote.
            self.pos += 1;
            let name = match self.plain_string() {
                Some(name) => Cow::Borrowed(name),
                None => self.string()?,
            };
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return fail(Code::ExpectedColon, self.pos),
                None => return fail(Code::EofWhileParsingObject, self.pos),
            }
            // Whether the name was seen before: said after the value, as serde_json does.
            let repeated = members.len() < SMALL_OBJECT && {
                let bit = 1u64 << name_hash(&name);
                let repeated = seen & bit != 0 && members.iter().any(|(k, _)| *k == name);
                seen |= bit;
                repeated
            };
            self.skip_whitespace();
            // Strings without escapes, most of what ZEGO sends, read here rather than
            // through `value`, and stored where they are read, so that each is written once
            // in place instead of through a temporary (measured: a fifth more callbacks a
            // second natively); anything else out of line, in `add_other`.
            let quoted = self.peek() == Some(b'"');
            let plain = if quoted {
                self.pos += 1;
                self.plain_string()
            } else {
                None
            };
            match plain {
                Some(text) => self.add(
                    &mut members,
                    name,
                    Value::String(Cow::Borrowed(text)),
                    repeated,
                )?,
                None => self.add_other(&mut members, name, quoted, repeated)?,
            }
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    if members.len() >= super::MAX_MEMBERS {
                        return fail(Code::TooManyMembers, self.pos);
                    }
                    self.pos += 1;
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b'}') => return fail(Code::TrailingComma, self.pos),
                        Some(_) => return fail(Code::KeyMustBeAString, self.pos),
                        None => return fail(Code::EofWhileParsingObject, self.pos),
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    self.depth += 1;
                    if members.len() > SMALL_OBJECT {
                        check_unique(&members, self.pos)?;
                    }
                    return Ok(Fields::from_vec(members));
                }
                Some(_) => return fail(Code::ExpectedObjectCommaOrEnd, self.pos),
                None => return fail(Code::EofWhileParsingObject, self.pos),
            }
        }
    }
}

/// A 6-bit hash of a name, from its length and its first and last bytes.
#[inline(always)]
fn name_hash(name: &str) -> u32 {
    let b = name.as_bytes();
    let first = b.first().map_or(0, |&c| u32::from(c));
    let last = b.last().map_or(0, |&c| u32::from(c));
    ((b.len() as u32).wrapping_mul(7) ^ first ^ (last << 2)) & 63
}

/// A large object's names, checked for repeats all at once.
#[cold]
fn check_unique(members: &[(Cow<'_, str>, Value<'_>)], at: usize) -> Result<()> {
    let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
    heap_sort(&mut names);
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => fail(Code::DuplicateField(w[0].to_owned()), at),
        None => Ok(()),
    }
}

/// Sorts in O(n log n) without the standard sort's code (a few kilobytes of wasm, for a
/// check that only large objects need).
fn heap_sort(names: &mut [&str]) {
    fn sift_down(names: &mut [&str], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && names[child] < names[child + 1] {
                child += 1;
            }
            if names[root] >= names[child] {
                return;
            }
            names.swap(root, child);
            root = child;
        }
    }
    for start in (0..names.len() / 2).rev() {
        sift_down(names, start, names.len());
    }
    for end in (1..names.len()).rev() {
        names.swap(0, end);
        sift_down(names, 0, end);
    }
}

#[cfg(any(feature = "wasm", feature = "fuzzing", test))]
pub(crate) use flat::{scan_flat, string_at, Flat, Member, Shape};

/// The flat scan behind the npm module's span path (src/spans.rs).
#[cfg(any(feature = "wasm", feature = "fuzzing", test))]
mod flat {
    use super::*;

    /// The shape of one top-level member's value, as the flat scan records it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Shape {
        /// A string without escapes; the span is its contents.
        Str,
        /// A string with escapes; the span is its contents, the quotes just outside it.
        Escaped,
        /// A number; the span is its text.
        Number,
        /// `true`.
        True,
        /// `false`.
        False,
        /// `null`.
        Null,
        /// An array whose items are all strings; the span runs from `[` to `]`.
        Strings,
    }

    /// One member of the top-level object, by byte spans into the scanned text.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Member {
        /// The name's contents (it has no escapes).
        pub key: (u32, u32),
        /// The value's shape.
        pub shape: Shape,
        /// The value's span (see [`Shape`]).
        pub value: (u32, u32),
        /// For [`Shape::Strings`], its items: a range of [`Flat::items`].
        pub items: (u32, u32),
    }

    /// One string of an array.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Item {
        /// Its contents.
        pub span: (u32, u32),
        /// Whether it has escapes.
        pub escaped: bool,
    }

    /// The members of a flat object and the items of its arrays (kept between scans, so a
    /// scan allocates nothing once they have grown).
    #[derive(Debug, Default)]
    pub(crate) struct Flat {
        /// The members, in the order received.
        pub members: Vec<Member>,
        /// The strings of every array, in the order received.
        pub items: Vec<Item>,
    }

    /// Scans one JSON object whose values are all scalars or arrays of strings, recording each
    /// member's spans (and each array's items) without building any value.
    ///
    /// `None` when the text is anything else (a syntax error, a nested object, a name with
    /// escapes, an array holding a non-string): [`parse`] then says what it is. Repeated names
    /// are left for the caller to find. Strings are checked exactly as [`parse`] checks them.
    pub(crate) fn scan_flat(text: &str, flat: &mut Flat) -> Option<()> {
        flat.members.clear();
        flat.items.clear();
        let Flat { members, items } = flat;
        let mut p = Parser::at(text, 0);
        p.skip_indent();
        if p.peek() != Some(b'{') {
            return None;
        }
        if !p.open(b'}') {
            loop {
                if p.peek() != Some(b'"') {
                    return None;
                }
                p.pos += 1;
                let key_start = p.pos;
                let key_end = scan_string(p.bytes, key_start);
                if p.bytes.get(key_end) != Some(&b'"') {
                    return None;
                }
                p.pos = key_end + 1;
                p.skip_indent();
                if p.peek() != Some(b':') {
                    return None;
                }
                p.pos += 1;
                p.skip_indent();
                let start = p.pos;
                let mut items_range = (0, 0);
                let shape = match p.peek()? {
                    b'"' => match p.flat_string()? {
                        false => Shape::Str,
                        true => Shape::Escaped,
                    },
                    b'-' | b'0'..=b'9' => {
                        p.number().ok()?;
                        Shape::Number
                    }
                    b't' => p.ident(b"true", Value::Null).ok().map(|_| Shape::True)?,
                    b'f' => p.ident(b"false", Value::Null).ok().map(|_| Shape::False)?,
                    b'n' => p.ident(b"null", Value::Null).ok().map(|_| Shape::Null)?,
                    b'[' => {
                        let first = items.len() as u32;
                        p.strings_only(items)?;
                        items_range = (first, items.len() as u32);
                        Shape::Strings
                    }
                    _ => return None,
                };
                let value = match shape {
                    Shape::Str | Shape::Escaped => (start + 1, p.pos - 1),
                    _ => (start, p.pos),
                };
                members.push(Member {
                    key: (key_start as u32, key_end as u32),
                    shape,
                    value: (value.0 as u32, value.1 as u32),
                    items: items_range,
                });
                if !p.more(b'}')? {
                    break;
                }
                // A larger object is the full reader's to refuse.
                if members.len() >= super::super::MAX_MEMBERS {
                    return None;
                }
            }
        }
        p.skip_indent();
        (p.pos == p.bytes.len()).then_some(())
    }

    impl Parser<'_> {
        /// An array of strings only, from its `[` to past its `]`; its items into `items`.
        fn strings_only(&mut self, items: &mut Vec<Item>) -> Option<()> {
            if self.open(b']') {
                return Some(());
            }
            loop {
                if self.peek() != Some(b'"') {
                    return None;
                }
                let start = self.pos + 1;
                let escaped = self.flat_string()?;
                items.push(Item {
                    span: (start as u32, self.pos as u32 - 1),
                    escaped,
                });
                if !self.more(b']')? {
                    return Some(());
                }
            }
        }

        /// At a string's opening quote: past its closing one, and whether it has escapes
        /// (checked, when it does, by the full string reader).
        #[inline(always)]
        fn flat_string(&mut self) -> Option<bool> {
            let end = scan_string(self.bytes, self.pos + 1);
            if self.bytes.get(end) == Some(&b'"') {
                self.pos = end + 1;
                return Some(false);
            }
            self.pos += 1;
            self.string().ok()?;
            Some(true)
        }

        /// At an opening `{` or `[`: past it and any whitespace, and whether `close` follows
        /// at once (then past it too: the object or array is empty).
        #[inline(always)]
        fn open(&mut self, close: u8) -> bool {
            self.pos += 1;
            self.skip_indent();
            let empty = self.peek() == Some(close);
            if empty {
                self.pos += 1;
            }
            empty
        }

        /// After a member or an item: `Some(true)` past a comma, `Some(false)` past `close`.
        #[inline(always)]
        fn more(&mut self, close: u8) -> Option<bool> {
            self.skip_indent();
            let b = self.peek()?;
            self.pos += 1;
            if b == b',' {
                self.skip_indent();
                Some(true)
            } else {
                (b == close).then_some(false)
            }
        }

        /// Whitespace, four spaces at a time where a body is indented.
        #[inline(always)]
        fn skip_indent(&mut self) {
            loop {
                match self.bytes.get(self.pos..self.pos + 4) {
                    Some(b"    ") => self.pos += 4,
                    _ => match self.peek() {
                        Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                        _ => return,
                    },
                }
            }
        }
    }

    /// The unescaped contents of the string whose contents start at byte `start` of `text`
    /// (just after its opening quote).
    pub(crate) fn string_at(text: &str, start: usize) -> Option<Cow<'_, str>> {
        let mut p = Parser::at(text, start);
        p.string().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_string_finds_the_first_quote_backslash_or_control_byte() {
        let reference = |bytes: &[u8], i: usize| {
            (i..bytes.len())
                .find(|&j| matches!(bytes[j], b'"' | b'\\' | 0..=0x1F))
                .unwrap_or(bytes.len())
        };
        // Every stop byte, and the bytes next to them in value (0x20, 0x7F, high bytes),
        // at every position of bodies longer than the 16- and 8-byte steps, from every start.
        let fillers = [b'a', b' ', b'!', b'#', b'[', b']', 0x7F, 0x80, 0xC3, 0xFF];
        for stop in [b'"', b'\\', 0x00, 0x0A, 0x1F] {
            for filler in fillers {
                for len in [0, 1, 7, 8, 15, 16, 17, 31, 33, 40] {
                    for at in 0..=len {
                        let mut bytes = vec![filler; len];
                        if at < len {
                            bytes[at] = stop;
                        }
                        for start in 0..=len {
                            assert_eq!(
                                scan_string(&bytes, start),
                                reference(&bytes, start),
                                "stop {stop:#x} at {at} in {len} bytes of {filler:#x}, from {start}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn heap_sort_sorts() {
        let mut names = ["m", "b", "z", "a", "m", "", "zz", "c"];
        let mut expected = names;
        expected.sort_unstable();
        heap_sort(&mut names);
        assert_eq!(names, expected);
        let mut none: [&str; 0] = [];
        heap_sort(&mut none);
    }

    #[test]
    fn repeated_names_in_large_objects_are_found() {
        let mut body = (0..40).map(|i| format!(r#""k{i}":1"#)).collect::<Vec<_>>();
        body.push(r#""k7":2"#.to_owned());
        let e = parse(&format!("{{{}}}", body.join(","))).unwrap_err();
        assert!(e.to_string().contains("duplicate field `k7`"), "{e}");
    }
}
