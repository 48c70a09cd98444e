"""Building blocks of the Word evidence packs (python-docx): pieces the pack issue assembles."""
