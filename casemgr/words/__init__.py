"""Plain-language phrasing for the family pages, in the reader's language."""
