"""The console's live link of the tests: the same client the benchmark uses."""
from etapalvelu.bench._sse import SseClient, SseEvent  # noqa: F401
