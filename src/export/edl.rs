//! A CMX 3600 edit decision list with one cut event per scene, for an editor to conform the
//! movie's scenes:
//!
//! ```text
//! TITLE: tt0047396
//! FCM: NON-DROP FRAME
//!
//! 001  AX       V     C        00:00:00:00 00:01:03:21 00:00:00:00 00:01:03:21
//! * FROM CLIP NAME: tt0047396
//! * SCENE 1: SHOTS 0-11, FRAMES 0-1532
//! ```
//!
//! Each event: its number (3 digits, counting from 001; CMX 3600 stops at 999, so a list of
//! more scenes numbers on with 4 digits, which OpenTimelineIO and most editors read), reel
//! `AX` (an auxiliary source: the movie file), track `V`, edit `C` (cut), then source in,
//! source out, record in, record out. Out points are exclusive (the frame after the scene),
//! as in every EDL; the record side is the source side (the scenes laid end to end from
//! 00:00:00:00 cover the movie). Timecodes are SMPTE non-drop-frame at the rate's whole
//! number of frames per second ([`FrameRate::smpte_ndf`]): exact frame counts, so at 23.976
//! a timecode second is 24 frames and the timecode runs 0.1% behind the clock, as
//! non-drop-frame timecode does; rates with no such base (12.5) are refused.

use std::fmt::Write as _;

use super::{FrameRate, RateError, Scene};

/// Reel name of every event: CMX's name for an auxiliary source.
pub const REEL: &str = "AX";

/// The EDL of movie `imdb_id`'s `scenes` at `rate` (lines end with `\n`). Errors: `rate` has no
/// timecode base.
pub fn to_string(imdb_id: &str, scenes: &[Scene], rate: FrameRate) -> Result<String, RateError> {
    rate.timecode_base()?;
    let mut out = String::new();
    let _ = writeln!(out, "TITLE: {imdb_id}");
    let _ = writeln!(out, "FCM: NON-DROP FRAME");
    let _ = writeln!(out);
    for (i, s) in scenes.iter().enumerate() {
        let tc_in = rate.smpte_ndf(s.start_frame)?;
        let tc_out = rate.smpte_ndf(s.end_frame + 1)?;
        let _ = writeln!(
            out,
            "{:03}  {REEL:<8} {:<5} C        {tc_in} {tc_out} {tc_in} {tc_out}",
            i + 1,
            "V"
        );
        let _ = writeln!(out, "* FROM CLIP NAME: {imdb_id}");
        let _ = writeln!(
            out,
            "* SCENE {}: SHOTS {}-{}, FRAMES {}-{}",
            i + 1,
            s.first_shot,
            s.last_shot,
            s.start_frame,
            s.end_frame
        );
    }
    Ok(out)
}

/// One event read back: its number and its four timecodes as frame counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub number: u32,
    pub source_in: u64,
    pub source_out: u64,
    pub record_in: u64,
    pub record_out: u64,
}

/// The cut events of an EDL written at `rate` (comment and header lines skipped). Errors
/// name the line.
pub fn parse_events(text: &str, rate: FrameRate) -> Result<Vec<Event>, String> {
    let base = rate.timecode_base().map_err(|e| e.to_string())?;
    let frames = |tc: &str, line: usize| -> Result<u64, String> {
        let parts: Vec<u64> = tc
            .split(':')
            .map(|p| p.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("line {line}: '{tc}' is not a timecode"))?;
        match parts[..] {
            [h, m, s, f] if m < 60 && s < 60 && f < base => Ok(((h * 60 + m) * 60 + s) * base + f),
            _ => Err(format!("line {line}: '{tc}' is not a timecode at {rate}")),
        }
    };
    let mut events = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = fields.first() else {
            continue;
        };
        let Ok(number) = first.parse::<u32>() else {
            continue;
        };
        let n = k + 1;
        if fields.len() != 8 || fields[3] != "C" {
            return Err(format!("line {n}: not a cut event: {line}"));
        }
        events.push(Event {
            number,
            source_in: frames(fields[4], n)?,
            source_out: frames(fields[5], n)?,
            record_in: frames(fields[6], n)?,
            record_out: frames(fields[7], n)?,
        });
    }
    Ok(events)
}
