//! Per-movie messages without floods: a folder of 143 movies that all fail for one reason
//! gets the first few lines in full and then one line counting the rest, instead of 143
//! identical lines. Shared by `scenelab predict` (movies it cannot score) and `scenelab
//! train` (movies it skips).

use std::sync::Mutex;

/// How many movies of one reason are named in full before the rest are counted.
pub const SHOWN: usize = 3;

/// Counts per-movie messages by their reason (the message with the movie's id taken out), so
/// that the first [`SHOWN`] of each reason are printed and the rest summed up at the end.
/// Shared between threads (a progress observer reports through `&self`).
#[derive(Debug, Default)]
pub struct Repeats {
    /// Each reason, in the order first met.
    reasons: Mutex<Vec<Reason>>,
}

/// One reason: the first movie that had it, its message in full, and how many movies had it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    key: String,
    pub first: String,
    pub message: String,
    pub count: usize,
}

impl Repeats {
    /// Count `message` about movie `id`; true when it should be printed in full (it is among
    /// the first [`SHOWN`] of its reason).
    pub fn admit(&self, id: &str, message: &str) -> bool {
        let key = reason_of(id, message);
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let i = match reasons.iter().position(|r| r.key == key) {
            Some(i) => i,
            None => {
                reasons.push(Reason {
                    key,
                    first: id.to_owned(),
                    message: message.to_owned(),
                    count: 0,
                });
                reasons.len() - 1
            }
        };
        reasons[i].count += 1;
        reasons[i].count <= SHOWN
    }

    /// One line per reason that had more movies than were printed: "… and N more movies for
    /// the same reason as FIRST" (its message is printed in full above).
    pub fn summary(&self) -> Vec<String> {
        let reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        reasons
            .iter()
            .filter(|r| r.count > SHOWN)
            .map(|r| {
                let more = r.count - SHOWN;
                let movies = if more == 1 { "movie" } else { "movies" };
                format!(
                    "… and {more} more {movies} for the same reason as {}",
                    r.first
                )
            })
            .collect()
    }

    /// The reasons counted, in the order first met.
    pub fn reasons(&self) -> Vec<Reason> {
        self.reasons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// One movie's line: `{lead}{movie}: {reason}`, or `{lead}{reason}` when the reason names the
/// movie itself (its id, or the stem of its file name), which would otherwise read twice.
pub fn line(lead: &str, movie: &str, reason: &str) -> String {
    if reason_of(movie, reason) != reason {
        format!("{lead}{reason}")
    } else {
        format!("{lead}{movie}: {reason}")
    }
}

/// `message` with the movie taken out (shown as `…`), so that the messages of movies failing
/// for one reason compare equal. `movie` is an imdb id or a file name, whose stem (the imdb
/// id of `tt0047396.pkl`) is taken out too.
pub fn reason_of(movie: &str, message: &str) -> String {
    let stem = std::path::Path::new(movie)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut reason = replace_word(message, movie, "…");
    // A bare stem only when it is an imdb id: `a.pkl`'s stem is also the word "a".
    let imdb =
        stem.len() > 2 && stem.starts_with("tt") && stem[2..].chars().all(|c| c.is_ascii_digit());
    if imdb {
        reason = replace_word(&reason, &stem, "…");
    } else if !stem.is_empty() {
        reason = reason.replace(&format!("'{stem}'"), "'…'");
    }
    reason
}

/// `text` with each whole-word `word` (not inside a longer run of letters, digits, `_` or
/// `.`) replaced by `with`: a file `a.pkl`'s stem must not match the `a` of other words.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return text.to_owned();
    }
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back().is_some_and(part);
        let after = rest[i + word.len()..].chars().next().is_some_and(part);
        out.push_str(&rest[..i]);
        out.push_str(if before || after { word } else { with });
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Print `(movie, reason)` pairs as [`Repeats`] says, each on stderr: the first [`SHOWN`] of
/// each reason as `{lead}{movie}: {reason}`, then `{lead}… and N more movies for the same
/// reason as {first}`.
pub fn print_collapsed<'a>(lead: &str, items: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let repeats = Repeats::default();
    for (movie, reason) in items {
        if repeats.admit(movie, reason) {
            eprintln!("{}", line(lead, movie, reason));
        }
    }
    for line in repeats.summary() {
        eprintln!("{lead}{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_a_reason_are_shown_and_the_rest_counted() {
        let r = Repeats::default();
        let shown: Vec<bool> = (0..5)
            .map(|i| r.admit(&format!("tt{i}"), &format!("movie 'tt{i}' has no features")))
            .collect();
        assert_eq!(shown, [true, true, true, false, false]);
        assert!(r.admit("tt9", "movie 'tt9' cannot be written"));
        // A file name stands for the imdb id in its message.
        assert!(!r.admit("tt5.pkl", "movie 'tt5' has no features"));
        assert_eq!(
            r.summary(),
            ["… and 3 more movies for the same reason as tt0"]
        );
        // A short file stem is not found inside other words.
        assert_eq!(
            line("skipped ", "a.pkl", "not a pickle: it starts with b'hello'"),
            "skipped a.pkl: not a pickle: it starts with b'hello'"
        );
        assert_eq!(
            line("error: ", "tt5.pkl", "movie 'tt5' has no features"),
            "error: movie 'tt5' has no features"
        );
    }
}
