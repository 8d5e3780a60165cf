"""Code the portal ships into the AI gateway's process (LiteLLM, in its own virtualenv: `make gateway`).

It imports only the standard library, LiteLLM and what LiteLLM brings (redis, httpx), never the portal: the
portal and the gateway share a cache layout (services/gateway/cache.py) and one HTTP route
(POST /api/gateway/usage), nothing else. Configured by environment (see `settings.py`)."""
