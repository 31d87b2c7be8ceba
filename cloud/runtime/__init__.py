"""What every cloud process shares at run time: heartbeats (liveness and readiness of the
workers, written to the database and told to systemd), the API's health endpoints and the run
loop that stops gracefully on SIGTERM with exit codes systemd understands. Log lines are
``etapalvelu.logs``'s, shared with the room agent."""
