"""E-mail: composed from templates in the seller's brand (compose.py), delivered over SMTP or to the outbox
(transport.py), queued by the domain through outgoing.py."""
