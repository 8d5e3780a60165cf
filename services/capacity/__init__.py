"""The pool of servers instances run on: which exist, where a new instance goes, moving and backing them up."""
