"""An instance's own keys: its usage API token and its AI gateway key.

Below provisioning, usage and the gateway, which all need them: provisioning puts them into the instance's
environment, usage and the gateway resolve them."""
