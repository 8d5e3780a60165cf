"""Domains customers and sellers prove they own: claims, DNS proof, the edge's part, and the certificate question."""
