//! Frame rates as exact fractions, and the two timecodes the exports write: PySceneDetect's
//! `HH:MM:SS.mmm` (wall-clock time of a frame) and SMPTE non-drop-frame `HH:MM:SS:FF` (a frame
//! count written at the rate's nominal whole number of frames per second).

use std::fmt;
use std::str::FromStr;

/// Frames per second as the exact fraction `num / den` (both positive, in lowest terms).
///
/// Read from text as PySceneDetect's `framerate_to_fraction` reads a number, so the same
/// `--fps` gives the same times: a whole number is itself (`25` → 25/1); a number within
/// 0.001 of `N × 1000/1001` is that NTSC rate (`23.976` → 24000/1001, `29.97` → 30000/1001);
/// any other is the closest fraction with a denominator of at most 10,000 (Python's
/// `Fraction.limit_denominator(10000)`). `N/D` is taken as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u64,
    den: u64,
}

/// Why a frame rate cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("the frame rate must be a positive number of frames per second up to 1000, got '{0}'")]
    Invalid(String),
    /// An EDL's timecode counts whole frames per second: only whole and NTSC rates have one.
    #[error(
        "an EDL's non-drop-frame timecode needs a whole or NTSC frame rate (24, 25, 23.976, \
         29.97, …), got {0}"
    )]
    NoTimecodeBase(FrameRate),
}

/// Highest rate accepted: keeps every product of frames and rate terms exact in 64 bits.
const MAX_FPS: f64 = 1000.0;
/// PySceneDetect's `_NTSC_DETECTION_TOLERANCE`.
const NTSC_TOLERANCE: f64 = 1e-3;
/// PySceneDetect's `limit_denominator` bound.
const MAX_DENOMINATOR: u64 = 10_000;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl FrameRate {
    /// `num / den` frames per second, reduced. Errors: zero, or over 1000 fps.
    pub fn new(num: u64, den: u64) -> Result<FrameRate, RateError> {
        let invalid = || RateError::Invalid(format!("{num}/{den}"));
        if num == 0 || den == 0 || num as f64 / den as f64 > MAX_FPS {
            return Err(invalid());
        }
        let g = gcd(num, den);
        Ok(FrameRate {
            num: num / g,
            den: den / g,
        })
    }

    /// The rate PySceneDetect takes `fps` for (see the type's docs).
    pub fn from_fps(fps: f64) -> Result<FrameRate, RateError> {
        if !(fps.is_finite() && fps > 0.0 && fps <= MAX_FPS) {
            return Err(RateError::Invalid(fps.to_string()));
        }
        if fps.fract() == 0.0 {
            return FrameRate::new(fps as u64, 1);
        }
        let base = (fps * 1001.0 / 1000.0).round();
        if base > 0.0 && (base * 1000.0 / 1001.0 - fps).abs() < NTSC_TOLERANCE {
            return FrameRate::new(base as u64 * 1000, 1001);
        }
        let (num, den) = limit_denominator(fps, MAX_DENOMINATOR);
        FrameRate::new(num, den).map_err(|_| RateError::Invalid(fps.to_string()))
    }

    pub fn num(self) -> u64 {
        self.num
    }

    pub fn den(self) -> u64 {
        self.den
    }

    /// The rate as a float (`num / den`, correctly rounded).
    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Seconds from frame 0 to the start of `frame`, correctly rounded from the exact
    /// `frame × den / num` (what Python's `float(Fraction)` gives).
    pub fn seconds(self, frame: u64) -> f64 {
        // Exact while frame × den < 2^53: over a billion frames at any accepted rate.
        (frame * self.den) as f64 / self.num as f64
    }

    /// PySceneDetect's `FrameTimecode.get_timecode()` of `frame`: `HH:MM:SS.mmm`, from
    /// `frame / float(rate)` rounded to milliseconds half to even, a 60th second carried into
    /// the minute.
    pub fn wall_timecode(self, frame: u64) -> String {
        let mut secs = frame as f64 / self.fps();
        let mut hrs = (secs / 3600.0).trunc();
        secs -= hrs * 3600.0;
        let mut mins = (secs / 60.0).trunc();
        secs = (secs - mins * 60.0).max(0.0);
        // Python's round(secs, 3) and Rust's `{:.3}` both round the exact value half to even.
        let mut text = format!("{secs:.3}");
        let rounded: f64 = text.parse().unwrap_or(secs);
        if rounded.trunc() >= 60.0 {
            text = "0.000".into();
            mins += 1.0;
            if mins >= 60.0 {
                mins = 0.0;
                hrs += 1.0;
            }
        }
        let (whole, millis) = text.split_once('.').unwrap_or((&text, "000"));
        format!(
            "{:02}:{:02}:{:0>2}.{millis}",
            hrs as u64, mins as u64, whole
        )
    }

    /// Frames per timecode second: the rate itself when whole, `N` for an NTSC rate
    /// `N × 1000/1001` (23.976 counts 24 frames a timecode second, as editors and
    /// OpenTimelineIO read non-drop-frame timecode). Errors: any other rate.
    pub fn timecode_base(self) -> Result<u64, RateError> {
        match self.den {
            1 => Ok(self.num),
            1001 if self.num.is_multiple_of(1000) => Ok(self.num / 1000),
            _ => Err(RateError::NoTimecodeBase(self)),
        }
    }

    /// SMPTE non-drop-frame timecode `HH:MM:SS:FF` of `frame`: the frame count written in
    /// [`FrameRate::timecode_base`] frames per second. Exact, so it reads back to the same
    /// frame; at an NTSC rate it runs 0.1% behind the clock (the non-drop-frame convention).
    pub fn smpte_ndf(self, frame: u64) -> Result<String, RateError> {
        let base = self.timecode_base()?;
        let ff = frame % base;
        let total_secs = frame / base;
        Ok(format!(
            "{:02}:{:02}:{:02}:{:02}",
            total_secs / 3600,
            total_secs / 60 % 60,
            total_secs % 60,
            ff
        ))
    }
}

/// Python's `Fraction(x).limit_denominator(max_den)` for a positive finite `x` of at most
/// [`MAX_FPS`]: the closest fraction with a denominator of at most `max_den`.
fn limit_denominator(x: f64, max_den: u64) -> (u64, u64) {
    // x exactly as n / d with d a power of two (x ≥ 2^-1074 has d ≤ 2^1074; rates below
    // 2^-60 fps are refused by the caller's range long before that matters).
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = if exp == 0 {
        (bits & ((1 << 52) - 1)) << 1
    } else {
        (bits & ((1 << 52) - 1)) | (1 << 52)
    };
    let shift = 1075 - exp.max(1);
    let (mut n, mut d): (u128, u128) = if shift <= 0 {
        ((mantissa as u128) << (-shift), 1)
    } else if shift < 127 {
        (mantissa as u128, 1u128 << shift)
    } else {
        return (0, 1);
    };
    let g = {
        let (mut a, mut b) = (n, d);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    n /= g;
    d /= g;
    let max_den = max_den as u128;
    if d <= max_den {
        return (n as u64, d as u64);
    }
    let orig_d = d;
    let (mut p0, mut q0, mut p1, mut q1) = (0u128, 1u128, 1u128, 0u128);
    loop {
        let a = n / d;
        let q2 = q0 + a * q1;
        if q2 > max_den {
            break;
        }
        (p0, q0, p1, q1) = (p1, q1, p0 + a * p1, q2);
        (n, d) = (d, n - a * d);
    }
    let k = (max_den - q0) / q1;
    let (bn, bd) = (p0 + k * p1, q0 + k * q1);
    // The closer of the two bounds (Python: `if 2*d*(q0+k*q1) <= self._denominator`).
    if 2 * d * bd <= orig_d {
        (p1 as u64, q1 as u64)
    } else {
        (bn as u64, bd as u64)
    }
}

impl FromStr for FrameRate {
    type Err = RateError;

    /// `24`, `23.976`, `24000/1001`.
    fn from_str(s: &str) -> Result<FrameRate, RateError> {
        let s = s.trim();
        let invalid = || RateError::Invalid(s.to_string());
        if let Some((n, d)) = s.split_once('/') {
            let n: u64 = n.trim().parse().map_err(|_| invalid())?;
            let d: u64 = d.trim().parse().map_err(|_| invalid())?;
            return FrameRate::new(n, d).map_err(|_| invalid());
        }
        let fps: f64 = s.parse().map_err(|_| invalid())?;
        FrameRate::from_fps(fps).map_err(|_| invalid())
    }
}

impl fmt::Display for FrameRate {
    /// `25 fps`, `24000/1001 fps`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{} fps", self.num)
        } else {
            write!(f, "{}/{} fps", self.num, self.den)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_pyscenedetect_reads_them() {
        let r = |s: &str| s.parse::<FrameRate>().unwrap();
        assert_eq!(r("24"), FrameRate { num: 24, den: 1 });
        assert_eq!(
            r("23.976"),
            FrameRate {
                num: 24000,
                den: 1001
            }
        );
        assert_eq!(
            r("29.97"),
            FrameRate {
                num: 30000,
                den: 1001
            }
        );
        assert_eq!(
            r("59.94"),
            FrameRate {
                num: 60000,
                den: 1001
            }
        );
        assert_eq!(r("12.5"), FrameRate { num: 25, den: 2 });
        assert_eq!(
            r("48000/2002"),
            FrameRate {
                num: 24000,
                den: 1001
            }
        );
        // Python's Fraction(x).limit_denominator(10000) of each.
        assert_eq!(limit_denominator(23.45678, 10_000), (57_258, 2_441));
        assert_eq!(limit_denominator(7.123456789, 10_000), (577, 81));
        assert_eq!(limit_denominator(99.99999, 10_000), (100, 1));
        assert_eq!(limit_denominator(std::f64::consts::PI, 10_000), (355, 113));
        for bad in ["0", "-24", "abc", "nan", "1e9", "24/0"] {
            assert!(bad.parse::<FrameRate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn timecodes_follow_pyscenedetect_and_smpte() {
        let ntsc: FrameRate = "23.976".parse().unwrap();
        // PySceneDetect's own CLI test: frame 48 and 90 at 24000/1001.
        assert_eq!(ntsc.wall_timecode(48), "00:00:02.002");
        assert_eq!(ntsc.wall_timecode(90), "00:00:03.754");
        assert_eq!(format!("{:.3}", ntsc.seconds(90)), "3.754");
        let pal: FrameRate = "25".parse().unwrap();
        assert_eq!(pal.wall_timecode(25 * 3661 + 12), "01:01:01.480");
        assert_eq!(pal.smpte_ndf(25 * 3661 + 12).unwrap(), "01:01:01:12");
        // 23.976 counts 24 frames a timecode second.
        assert_eq!(ntsc.smpte_ndf(24 * 60).unwrap(), "00:01:00:00");
        assert_eq!(ntsc.wall_timecode(24 * 60), "00:01:00.060");
        let odd: FrameRate = "12.5".parse().unwrap();
        assert!(matches!(
            odd.smpte_ndf(3),
            Err(RateError::NoTimecodeBase(_))
        ));
    }
}
