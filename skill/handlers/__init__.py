"""One handler per intent: export, credits, state, upload (direct API) and chat (SSE)."""
