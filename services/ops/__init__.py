"""Running the platform: incidents and staff alerts, metrics, logs."""
