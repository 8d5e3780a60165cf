"""Outbound webhooks: events written with the change that caused them, fanned out to the endpoints that asked for
them, signed per Standard Webhooks, delivered by the job queue with retries, logged, replayable."""
