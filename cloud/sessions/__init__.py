"""Video sessions: who takes part in a visit's video call, the lobby, the signalling that
connects their browsers or terminals, the session's end and the quick feedback. Nothing of a
session's content passes through or is stored here: only who joined when, and the answers."""
