//! The workbook's formats: one fill per kind of outcome, so a person sees
//! the night's shape at a glance (green went through, red needs fixing,
//! orange needs a decision, yellow is still open, grey needed nothing).

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

use crate::report::Outcome;

/// How dates show: ISO order, which no locale misreads.
pub(super) const DATE_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

/// The formats of cells of one fill.
#[derive(Clone)]
pub(super) struct Cells {
    pub text: Format,
    pub number: Format,
    pub date: Format,
    pub blank: Format,
}

impl Cells {
    fn new(fill: Option<Color>) -> Cells {
        // Top-aligned, so a row grown for a wrapped text reads as one line
        // across.
        let base = match fill {
            Some(c) => Format::new()
                .set_background_color(c)
                .set_border_bottom(FormatBorder::Hair),
            None => Format::new(),
        }
        .set_align(FormatAlign::Top);
        Cells {
            // Wrapped within the column's width, so a long reason prints
            // whole on its own lines and the row grows to hold it.
            text: base.clone().set_num_format("@").set_text_wrap(),
            // Centred, so a small number is not read as part of the text
            // that follows it (`2` and `10482` as `2 10482`).
            number: base.clone().set_align(FormatAlign::Center),
            date: base.clone().set_num_format(DATE_FORMAT),
            blank: base,
        }
    }
}

/// The fills by kind of outcome, in the order of [`Styles::of`]'s arms.
const FILLS: [u32; 5] = [
    0x00C6_EFCE,
    0x00FF_EB9C,
    0x00FF_C7CE,
    0x00F8_CBAD,
    0x00EE_EEEE,
];

/// Every format the sheets use.
pub(super) struct Styles {
    pub header: Format,
    pub title: Format,
    pub plain: Cells,
    fills: [Cells; FILLS.len()],
}

impl Styles {
    pub(super) fn new() -> Styles {
        Styles {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0x00D9_E1F2))
                .set_border_bottom(FormatBorder::Thin),
            title: Format::new().set_bold().set_font_size(14),
            plain: Cells::new(None),
            fills: FILLS.map(|rgb| Cells::new(Some(Color::RGB(rgb)))),
        }
    }

    /// The cells of a row of this outcome.
    pub(super) fn of(&self, outcome: Outcome) -> &Cells {
        &self.fills[match outcome {
            Outcome::Delivered | Outcome::Read => 0,
            Outcome::Pending => 1,
            Outcome::Failed | Outcome::Rejected | Outcome::Invalid => 2,
            Outcome::Unknown => 3,
            Outcome::Duplicate | Outcome::Skipped | Outcome::Suppressed => 4,
        }]
    }
}
