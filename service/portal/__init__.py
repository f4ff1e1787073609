"""The signed-in pages (the portal): browser sessions, CSRF tokens and what the pages show."""
