//! Spreadsheets (Office Open XML, `.xlsx`) of tables the service already computed, written
//! with `rust_xlsxwriter`: numbers stay numbers (a spreadsheet can sum and chart them), units
//! go in the column headers, each sheet starts with its title, and every workbook ends with
//! a sheet of its sources that says which figures are synthetic.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

/// A cell: text, a number, or nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<&serde_json::Value> for Cell {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
            serde_json::Value::String(s) => Cell::Text(s.clone()),
            serde_json::Value::Bool(b) => Cell::Text(if *b { "oui" } else { "non" }.into()),
            serde_json::Value::Null => Cell::Empty,
            other => Cell::Text(other.to_string()),
        }
    }
}

/// One sheet: its tab name (at most 31 characters), a title on its first row, a header row
/// and the rows under it.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub name: String,
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The workbook of `sheets`, in that order, as bytes.
///
/// ```
/// use ecofoncier::formats::xlsx::{workbook, Cell, Sheet};
/// let sheet = Sheet {
///     name: "Comparaison".into(),
///     title: "Deux EPCI".into(),
///     header: vec!["Intercommunalité".into(), "Population (hab.)".into()],
///     rows: vec![vec![Cell::Text("CA Amiens Métropole".into()), Cell::Number(184392.0)]],
/// };
/// let bytes = workbook(&[sheet]).unwrap();
/// assert_eq!(&bytes[..2], b"PK"); // a zip archive
/// ```
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(13);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("#E9ECEF");
    let number = Format::new().set_num_format("#,##0.0##");
    for s in sheets {
        let w = book.add_worksheet();
        w.set_name(&s.name)?;
        w.write_string_with_format(0, 0, &s.title, &title)?;
        for (c, h) in s.header.iter().enumerate() {
            w.write_string_with_format(2, c as u16, h, &head)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 3;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => {
                        w.write_string(r, c, t)?;
                    }
                    Cell::Number(n) => {
                        w.write_number_with_format(r, c, *n, &number)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        // Headers wrap in narrow columns; the first (names) is wide and stays in view.
        for c in 0..s.header.len().max(1) as u16 {
            w.set_column_width(c, if c == 0 { 42 } else { 15 })?;
        }
        if !s.header.is_empty() {
            w.set_freeze_panes(3, 1)?;
        }
    }
    book.save_to_buffer()
}
