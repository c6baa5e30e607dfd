//! The progress display of the studies' long work: indicatif bars on stderr, installed into
//! `feynn_studies::progress` at start-up.

use feynn_studies::progress::Bar;

struct Indicatif(indicatif::ProgressBar);

impl Bar for Indicatif {
    fn set_length(&self, len: u64) {
        self.0.set_length(len)
    }
    fn inc(&self, n: u64) {
        self.0.inc(n)
    }
    fn set_position(&self, pos: u64) {
        self.0.set_position(pos)
    }
    fn set_message(&self, msg: String) {
        self.0.set_message(msg)
    }
    fn finish(&self) {
        self.0.finish_and_clear()
    }
}

/// A bar `elapsed [=====>   ] UNIT pos/len message`.
pub fn bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    let template = format!("{{elapsed_precise}} [{{bar:30}}] {unit} {{pos}}/{{len}} {{msg}}");
    // the template is ours and valid; should it ever not be, the default style is kept
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        b.set_style(style.progress_chars("=> "));
    }
    b
}

/// Install the indicatif display for the studies.
pub fn install() {
    feynn_studies::progress::install(Box::new(|len, unit| Box::new(Indicatif(bar(len, unit)))));
}
