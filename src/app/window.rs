//! The frame every tool window of the app shares (Train, Search, Review errors, Export
//! scenes): the caller shows it while its state says open, and closes that state when this
//! says the user closed the window.

use eframe::egui;

/// Show `window` with `add` as its contents; `false` once the user closed it with its ✕.
pub(crate) fn show(
    ctx: &egui::Context,
    window: egui::Window<'_>,
    add: impl FnOnce(&mut egui::Ui),
) -> bool {
    let mut open = true;
    window.open(&mut open).show(ctx, add);
    open
}
