//! MovieNet's text files: `label*/<imdb>.txt` (scene labels per shot) and
//! `shot_movie*/<imdb>.txt` (each shot's frames).

use std::path::Path;

/// One shot of a `shot_movie` file: `start_frame end_frame kf1 kf2 kf3` (frames of the
/// original video; the keyframes are not used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShotFrames {
    pub start: i64,
    pub end: i64,
}

/// The shots of a `shot_movie` file, in order. A line that is not at least two integers is
/// refused naming it (`name`: the file as the user sees it).
pub fn parse_shot_file(text: &str, name: &str) -> Result<Vec<ShotFrames>, String> {
    let mut shots = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut cols = line.split_whitespace().map(str::parse::<i64>);
        match (cols.next(), cols.next()) {
            (Some(Ok(start)), Some(Ok(end))) => shots.push(ShotFrames { start, end }),
            _ => {
                return Err(format!(
                    "{name} line {}: expected 'start_frame end_frame kf1 kf2 kf3', got '{line}'",
                    i + 1
                ));
            }
        }
    }
    Ok(shots)
}

/// A label file's lines: shot index → label (1 a scene ends after the shot, 0 not, -1 the
/// annotators were unsure), in file order.
pub fn parse_label_file(text: &str, name: &str) -> Result<Vec<(usize, i8)>, String> {
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "{name} line {}: expected 'SSSS L' (shot index, then 1, 0 or -1), got '{line}'",
                i + 1
            )
        };
        let mut cols = line.split_whitespace();
        let shot = cols.next().and_then(|s| s.parse::<usize>().ok());
        let label = cols.next().and_then(|s| s.parse::<i8>().ok());
        match (shot, label) {
            (Some(s), Some(l @ -1..=1)) => labels.push((s, l)),
            _ => return Err(bad()),
        }
    }
    Ok(labels)
}

/// Ground truth from a label file's lines for a movie of `n_shots` shots.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRead {
    /// One per transition (`n_shots - 1`); -1 (unsure) reads as a boundary.
    pub boundaries: Vec<bool>,
    /// Transitions labelled -1.
    pub uncertain: Vec<bool>,
    /// Transitions the file has no line for (read as no boundary).
    pub missing: Vec<usize>,
}

/// Shot `i`'s label is transition `i` (between shots `i` and `i + 1`). Files usually stop at
/// the last transition, some carry a line for the last shot too (ignored: no transition
/// follows it), and some stop a line or two early: those transitions have no label, are read
/// as no boundary and listed in `missing`. A line for a shot the movie does not have, or two
/// different labels for one shot, refuse the file.
pub fn labels_to_transitions(
    labels: &[(usize, i8)],
    n_shots: usize,
    name: &str,
) -> Result<LabelRead, String> {
    let n = n_shots.saturating_sub(1);
    let mut value: Vec<Option<i8>> = vec![None; n];
    for &(shot, label) in labels {
        if shot + 1 == n_shots {
            continue;
        }
        let Some(slot) = value.get_mut(shot) else {
            return Err(format!(
                "{name} labels shot {shot:04}, but the movie has {n_shots} shots (0000 to {:04})",
                n_shots.saturating_sub(1)
            ));
        };
        match slot {
            Some(old) if *old != label => {
                return Err(format!(
                    "{name} labels shot {shot:04} twice, as {old} and as {label}"
                ));
            }
            _ => *slot = Some(label),
        }
    }
    Ok(LabelRead {
        boundaries: value.iter().map(|v| matches!(v, Some(1 | -1))).collect(),
        uncertain: value.iter().map(|v| *v == Some(-1)).collect(),
        missing: (0..n).filter(|&i| value[i].is_none()).collect(),
    })
}

/// Up to five shot indices as MovieNet writes them (`0012, 0013, …`), for notes.
pub fn some_shots(shots: &[usize]) -> String {
    let mut s: Vec<String> = shots.iter().take(5).map(|i| format!("{i:04}")).collect();
    if shots.len() > 5 {
        s.push("…".into());
    }
    s.join(", ")
}

/// The text of `path`, or why not.
pub fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_unsure_as_a_boundary_and_short_files_as_no_boundary() {
        let labels = parse_label_file("0000 0\n0001 -1\n0002 1\n", "l.txt").unwrap();
        let read = labels_to_transitions(&labels, 6, "l.txt").unwrap();
        assert_eq!(read.boundaries, [false, true, true, false, false]);
        assert_eq!(read.uncertain, [false, true, false, false, false]);
        assert_eq!(read.missing, [3, 4]);
        // A line for the last shot is no transition.
        let full = labels_to_transitions(&labels, 3, "l.txt").unwrap();
        assert_eq!(full.boundaries, [false, true]);
        assert!(full.missing.is_empty());
        let err = labels_to_transitions(&labels, 2, "l.txt").unwrap_err();
        assert!(
            err.contains("labels shot 0002, but the movie has 2 shots"),
            "{err}"
        );
        let err = parse_label_file("0000 0\n0001 2\n", "l.txt").unwrap_err();
        assert!(err.contains("l.txt line 2"), "{err}");
    }

    #[test]
    fn shot_files_give_start_and_end_frames() {
        let shots = parse_shot_file("0 48 12 24 36\n49 329 119 189 259\n", "s.txt").unwrap();
        assert_eq!(
            shots[1],
            ShotFrames {
                start: 49,
                end: 329
            }
        );
        assert!(
            parse_shot_file("0 x\n", "s.txt")
                .unwrap_err()
                .contains("line 1")
        );
    }
}
