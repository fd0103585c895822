//! Subtitles (SubRip `.srt`) of a movie, mapped to its shots.
//!
//! MovieNet ships one file per movie, `subtitle/<imdb>.srt`, in UTF-8 with or without a BOM,
//! ASCII, or UTF-16 with a BOM and CRLF line ends. [`decode`] turns the bytes into text
//! (`encoding_rs`), [`parse_srt`] reads the cues with the `srtparse` crate, and
//! [`ShotClock`] places a time on the movie's shots: shot `k` spans frames
//! `end[k-1] + 1 ..= end[k]` of `shot_end_frame` (shot 0 starts at frame 0) and frame `f`
//! starts at `f / fps` seconds, as MovieNet's shot files count frames of the original video.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// Frame rate assumed for a movie until the user sets its own: most MovieNet movies run at
/// 24 or 23.976 fps.
pub const DEFAULT_FPS: f64 = 24.0;

/// Where MovieNet keeps subtitles, relative to the data folder.
pub const SUBTITLE_DIR: &str = "subtitle";

/// One cue of a subtitle file.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleLine {
    /// When the line appears, in seconds from the start of the movie.
    pub start: f64,
    /// When it disappears, in seconds (never before `start`).
    pub end: f64,
    /// The text with its formatting tags (`<i>`, `{\an8}`) removed; lines of a cue joined
    /// with `\n`.
    pub text: String,
}

/// A subtitle file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtitles {
    pub path: PathBuf,
    /// The cues in file order.
    pub lines: Vec<SubtitleLine>,
    /// The encoding the bytes were read as (`UTF-8`, `UTF-16LE`, ...).
    pub encoding: &'static str,
    /// Something the user should know (an empty file, a guessed encoding).
    pub note: Option<String>,
}

/// Why a subtitle file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SubtitleError {
    #[error("could not read the subtitle file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a SubRip (.srt) file: the cue starting at line {line} {problem}. \
         Fix or remove the file, or choose another subtitle folder."
    )]
    Malformed {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// Text of a subtitle file and the name of the encoding it was read as.
///
/// A BOM decides (UTF-8, UTF-16LE, UTF-16BE); without one, UTF-16 is recognised by its zero
/// bytes, then strict UTF-8 (ASCII included) is tried, and anything else is read as
/// Windows-1252, the usual encoding of older Western subtitle files. Never fails: a byte
/// that does not decode becomes U+FFFD.
pub fn decode(bytes: &[u8]) -> (String, &'static Encoding) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| utf16_without_bom(bytes))
        .unwrap_or_else(|| {
            if std::str::from_utf8(bytes).is_ok() {
                UTF_8
            } else {
                WINDOWS_1252
            }
        });
    // `decode` strips the BOM of `encoding` and of any other it finds.
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used)
}

/// UTF-16 without a BOM: text in Latin letters has a zero in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let zeros = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = sample.len() / 2;
    // Most high bytes zero, no low byte zero.
    if zeros(1) * 4 > half * 3 && zeros(0) == 0 {
        Some(UTF_16LE)
    } else if zeros(0) * 4 > half * 3 && zeros(1) == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The cues of SubRip text, in order. Line ends may be LF or CRLF, cues may be separated by
/// more than one blank line. `Err((line, problem))` names the 1-based line where the cue
/// that could not be read starts.
pub fn parse_srt(text: &str) -> Result<Vec<SubtitleLine>, (usize, String)> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = Vec::new();
    // Cue by cue, so a problem is reported with its line: a cue is a run of non-blank lines.
    let mut block: Vec<&str> = Vec::new();
    let mut block_start = 0;
    let all: Vec<&str> = text.lines().collect();
    for (i, raw) in all.iter().chain(std::iter::once(&"")).enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if block.is_empty() {
                continue;
            }
            // A number alone is a cue cut short, not text.
            let is_cue = block.get(1).is_some_and(|l| l.contains("-->"))
                || (block.len() == 1 && block[0].trim().parse::<u64>().is_ok());
            match lines.last_mut() {
                // A blank line inside a cue's text: the rest belongs to the cue before.
                Some(SubtitleLine { text, .. }) if !is_cue => {
                    text.push('\n');
                    text.push_str(&strip_tags(&block.join("\n")));
                }
                _ => {
                    if let Some(cue) = parse_cue(&block).map_err(|p| (block_start + 1, p))? {
                        lines.push(cue);
                    }
                }
            }
            block.clear();
        } else {
            if block.is_empty() {
                block_start = i;
            }
            block.push(line);
        }
    }
    Ok(lines)
}

/// One cue; `None` for a cue with a number and a time but no text (nothing to show).
fn parse_cue(block: &[&str]) -> Result<Option<SubtitleLine>, String> {
    let cue = block.join("\n");
    let items = match srtparse::from_str(&cue) {
        Ok(items) => items,
        Err(srtparse::ReaderError::Parse(srtparse::ParseError::CreateSubtitle(
            srtparse::ItemFactoryError::NoText,
        ))) => return Ok(None),
        Err(srtparse::ReaderError::Parse(p)) => return Err(describe(&p, block)),
        Err(other) => return Err(other.to_string()),
    };
    let item = items
        .into_iter()
        .next()
        .ok_or_else(|| "has no number, time line and text".to_string())?;
    let seconds = |t: srtparse::Time| std::time::Duration::from(t).as_secs_f64();
    let (start, end) = (seconds(item.start_time), seconds(item.end_time));
    Ok(Some(SubtitleLine {
        start,
        end: end.max(start),
        text: strip_tags(&item.text),
    }))
}

/// The parser's complaint in words that point at the line to fix.
fn describe(e: &srtparse::ParseError, block: &[&str]) -> String {
    use srtparse::ParseError as P;
    let quoted = |i: usize| block.get(i).map_or(String::new(), |l| format!(" ('{l}')"));
    match e {
        P::BadPosition(_) => format!("does not start with a cue number{}", quoted(0)),
        P::ParseTimeStart(_) | P::ParseTimeEnd(_) | P::ExtraTimePart(_) => format!(
            "has no time line 'HH:MM:SS,mmm --> HH:MM:SS,mmm'{}",
            quoted(1)
        ),
        P::UnexpectedEnd => "ends after its number, without a time line".to_string(),
        P::CreateSubtitle(_) => "lacks its number, its time line or its text".to_string(),
        other => other.to_string(),
    }
}

/// Formatting removed for display: HTML-like tags (`<i>`, `<font ...>`) and ASS overrides
/// (`{\an8}`).
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let close = match (c, chars.peek()) {
            ('<', Some(n)) if n.is_ascii_alphabetic() || *n == '/' => '>',
            ('{', Some('\\')) => '}',
            _ => {
                out.push(c);
                continue;
            }
        };
        for n in chars.by_ref() {
            if n == close {
                break;
            }
        }
    }
    out.trim().to_string()
}

/// Read and parse the subtitle file at `path`. An empty file (or one of blank lines) gives no
/// lines and a note.
pub fn read_srt(path: &Path) -> Result<Subtitles, SubtitleError> {
    let bytes = std::fs::read(path).map_err(|source| SubtitleError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let (text, encoding) = decode(&bytes);
    let lines = parse_srt(&text).map_err(|(line, problem)| SubtitleError::Malformed {
        path: path.to_path_buf(),
        line,
        problem,
    })?;
    let note = if lines.is_empty() {
        Some(format!("{} holds no subtitle lines", path.display()))
    } else if encoding == WINDOWS_1252 {
        Some(format!(
            "{} is not UTF-8 or UTF-16; read as Windows-1252",
            path.display()
        ))
    } else {
        None
    };
    Ok(Subtitles {
        path: path.to_path_buf(),
        lines,
        encoding: if encoding == UTF_8 && bytes.is_ascii() {
            "ASCII"
        } else {
            encoding.name()
        },
        note,
    })
}

/// The subtitle file of movie `imdb_id` in `dir`: `dir/<imdb>.srt`, else MovieNet's
/// `dir/subtitle/<imdb>.srt`.
pub fn find_srt(dir: &Path, imdb_id: &str) -> Option<PathBuf> {
    let name = format!("{imdb_id}.srt");
    [dir.join(&name), dir.join(SUBTITLE_DIR).join(&name)]
        .into_iter()
        .find(|p| p.is_file())
}

/// The subtitles found for a set of movies.
#[derive(Debug, Clone, Default)]
pub struct SubtitleSet {
    /// The folder they were looked for in.
    pub dir: Option<PathBuf>,
    /// Per IMDb id: the file read, or why it could not be. Movies without a file are absent.
    pub movies: HashMap<String, Result<Subtitles, String>>,
}

impl SubtitleSet {
    /// Look for each of `imdb_ids` in `dir` (see [`find_srt`]) and read what is there, in
    /// parallel (MovieNet has a file for 314 of its 318 movies).
    pub fn load(dir: &Path, imdb_ids: &[&str]) -> SubtitleSet {
        use rayon::prelude::*;
        let movies = imdb_ids
            .par_iter()
            .filter_map(|id| {
                let path = find_srt(dir, id)?;
                Some((id.to_string(), read_srt(&path).map_err(|e| e.to_string())))
            })
            .collect();
        SubtitleSet {
            dir: Some(dir.to_path_buf()),
            movies,
        }
    }

    /// Whether `dir` has a subtitle folder (or `.srt` files) worth looking into.
    pub fn present_in(dir: &Path) -> bool {
        dir.join(SUBTITLE_DIR).is_dir()
    }

    pub fn get(&self, imdb_id: &str) -> Option<&Result<Subtitles, String>> {
        self.movies.get(imdb_id)
    }

    /// How many movies have subtitles that could be read.
    pub fn readable(&self) -> usize {
        self.movies.values().filter(|r| r.is_ok()).count()
    }
}

/// Times of a movie's shots at a frame rate (see the module docs for the formula).
#[derive(Debug, Clone, Copy)]
pub struct ShotClock<'a> {
    ends: &'a [i64],
    fps: f64,
}

impl<'a> ShotClock<'a> {
    /// `None` when there are no shots or `fps` is not a positive number.
    pub fn new(shot_end_frame: &'a [i64], fps: f64) -> Option<Self> {
        (!shot_end_frame.is_empty() && fps.is_finite() && fps > 0.0).then_some(ShotClock {
            ends: shot_end_frame,
            fps,
        })
    }

    /// First frame of shot `k`.
    pub fn start_frame(&self, k: usize) -> i64 {
        if k == 0 { 0 } else { self.ends[k - 1] + 1 }
    }

    /// Seconds at which shot `k` starts and ends (the end is the next shot's start).
    pub fn span(&self, k: usize) -> (f64, f64) {
        (
            self.start_frame(k) as f64 / self.fps,
            (self.ends[k] + 1) as f64 / self.fps,
        )
    }

    /// The shot showing at `seconds`, clamped to the first and last shot.
    pub fn shot_at(&self, seconds: f64) -> usize {
        let frame = (seconds * self.fps).floor() as i64;
        self.ends
            .partition_point(|&e| e < frame)
            .min(self.ends.len() - 1)
    }

    /// `seconds` as a position on the shot axis: shot `k` spans `[k, k + 1)`, filled in
    /// proportion to time.
    pub fn shot_position(&self, seconds: f64) -> f64 {
        let k = self.shot_at(seconds);
        let (s, e) = self.span(k);
        let within = if e > s { (seconds - s) / (e - s) } else { 0.0 };
        k as f64 + within.clamp(0.0, 1.0)
    }

    /// First and last shot that `line` is on screen in.
    pub fn shots_of(&self, line: &SubtitleLine) -> (usize, usize) {
        let first = self.shot_at(line.start);
        // A line ending exactly on a cut does not reach the next shot.
        let last = self.shot_at((line.end - 1e-6).max(line.start));
        (first, last.max(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_removed_but_angle_brackets_in_words_stay() {
        assert_eq!(
            strip_tags("<i>Men, are you over 40?</i>"),
            "Men, are you over 40?"
        );
        assert_eq!(strip_tags("{\\an8}<font color=\"red\">Hi</font>"), "Hi");
        assert_eq!(strip_tags("a < b"), "a < b");
    }

    #[test]
    fn utf16_without_a_bom_is_recognised_by_its_zero_bytes() {
        let le: Vec<u8> = "1\n00:00:01,000 --> 00:00:02,000\nHi\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&le).1, UTF_16LE);
        let be: Vec<u8> = le.chunks(2).flat_map(|c| [c[1], c[0]]).collect();
        assert_eq!(decode(&be).1, UTF_16BE);
        assert_eq!(decode(b"plain ascii").1, UTF_8);
        assert_eq!(decode(b"caf\xe9").0, "caf\u{e9}");
    }
}
