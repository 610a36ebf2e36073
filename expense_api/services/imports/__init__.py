"""Bank files in (issue 29, ../shared/API.md "Import and export"): a file read by
domain/bankfiles becomes an import in preview (previews: every row with its decision), which is
committed, discarded or undone (commits); reads lists them and their rows."""
