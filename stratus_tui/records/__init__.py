"""Records the configuration pages list and edit: rows, columns, forms. No Textual here."""
