//! Byte offsets to the 1-based lines and character columns the command line prints.

/// Line starts of a text, for turning byte offsets into `line:column`.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

/// A 1-based line and a 1-based column counted in Unicode scalar values (characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineColumn {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl LineIndex {
    /// Indexes `text`. Lines end at `\n`, `\r\n` or a lone `\r`, as in YAML and LSP.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, b) in bytes.iter().enumerate() {
            let lone_cr = *b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if *b == b'\n' || lone_cr {
                line_starts.push(i + 1);
            }
        }
        Self { line_starts }
    }

    /// The line and character column of byte `offset` in `text` (the text this index was built from).
    pub fn line_column(&self, text: &str, offset: usize) -> LineColumn {
        let offset = offset.min(text.len());
        let line = self
            .line_starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        LineColumn {
            line: line + 1,
            column: column + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_crlf_ends_lines() {
        let text = "a: 1\r\nключ: ü\n";
        let index = LineIndex::new(text);
        let offset = text.find('ü').unwrap();
        assert_eq!(index.line_column(text, offset), LineColumn { line: 2, column: 7 });
        assert_eq!(index.line_column(text, 0), LineColumn { line: 1, column: 1 });
        assert_eq!(
            index.line_column(text, text.len()),
            LineColumn { line: 3, column: 1 }
        );
        let lone = "a\rb";
        assert_eq!(
            LineIndex::new(lone).line_column(lone, 2),
            LineColumn { line: 2, column: 1 }
        );
    }
}
