"""The platform's AI gateway (LiteLLM) with the portal as its key store and budget authority.

The portal issues one gateway key per instance (`keys`), decides what each key may do (`policy`), and keeps that
decision where the gateway's hook reads it on every request without asking the database (`cache`, kept current
by `sync`). Spend comes back from the gateway's callback as usage records (`receiver`). The code that runs inside
LiteLLM's own process and virtualenv is in `litellm_hooks` and imports nothing of the portal."""
