"""The platform API: tokens with scopes, what a call may reach, and the reads and writes behind /api/v1."""
