//! Names folded for searching (`Saint-Éloi` → `saint eloi`): the EPCIs' and the communes'
//! names, folded once at load, so that the EPCI picker's search is accent-, case- and
//! punctuation-insensitive without folding 35,000 names a keystroke.

use unicode_normalization::UnicodeNormalization;

use super::ReadModel;

/// `text` lower-cased, without its accents (canonical decomposition, marks dropped), its
/// hyphens, apostrophes and other punctuation as single spaces.
///
/// ```
/// use ecofoncier::read_model::names::fold;
/// assert_eq!(fold("Saint-Éloi-d'Œuvre"), "saint eloi d œuvre");
/// assert_eq!(fold("  CA  Amiens Métropole "), "ca amiens metropole");
/// ```
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd().flat_map(char::to_lowercase) {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The folded names of the EPCIs and the communes, by slot.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub epci: Vec<String>,
    pub communes: Vec<String>,
}

impl Names {
    pub fn build(m: &ReadModel) -> Names {
        use rayon::prelude::*;
        Names {
            epci: (0..m.epci.slots())
                .into_par_iter()
                .map(|e| fold(&m.epci.record(e).epci_nom))
                .collect(),
            communes: (0..m.communes.slots())
                .into_par_iter()
                .map(|c| fold(&m.communes.record(c).nom))
                .collect(),
        }
    }
}
