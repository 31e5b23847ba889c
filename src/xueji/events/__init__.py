"""Events out for inbox integrations: outbox, signed webhooks with retries, an SSE stream."""
