//! Reading a search folder back (what `run_search` wrote), for Open results.

use std::path::{Path, PathBuf};

use crate::train::search::{self, FinalResult, TrialRecord};

/// A finished (or cancelled) search read back from its folder.
#[derive(Debug, Clone)]
pub struct SavedSearch {
    pub out_dir: PathBuf,
    pub header: search::SearchHeader,
    /// One record per trial, best first.
    pub trials: Vec<TrialRecord>,
    /// The final fit, when it is of the table's best trial.
    pub final_result: Option<FinalResult>,
    /// The trial of a saved final fit that is no longer the best one.
    pub stale_final: Option<usize>,
    /// Why `summary.json` could not be read (the trials are still shown).
    pub summary_error: Option<String>,
}

/// Read what `run_search` wrote into `out`: its header, the finished trials and, if the best
/// configuration was retrained, the summary (its model looked for in `out/best`, wherever the
/// search ran from). A summary of a trial that is no longer the best (trials were added after
/// it, and the final fit did not run again) is not taken as the best model.
pub fn read_saved_search(out: &Path) -> Result<SavedSearch, String> {
    let header = search::read_header(out)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "{} has no {}: choose the folder a search wrote",
                out.display(),
                search::HEADER_FILE
            )
        })?;
    let mut trials =
        search::read_trials(&out.join(search::TRIALS_FILE)).map_err(|e| e.to_string())?;
    search::rank(&mut trials);
    let (summary, summary_error) = match search::read_summary(out) {
        Ok(s) => (s, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let best_trial = trials.first().map(|t| t.trial);
    let (final_result, stale_final) = match summary {
        Some(f) if Some(f.trial) == best_trial => (Some(f), None),
        Some(f) => (None, Some(f.trial)),
        None => (None, None),
    };
    Ok(SavedSearch {
        out_dir: out.to_path_buf(),
        header,
        trials,
        final_result,
        stale_final,
        summary_error,
    })
}
