"""White-label: which brand a request host shows, inherited down the organization tree, and safe custom CSS."""
