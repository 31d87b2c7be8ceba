"""The WebRTC link probe's endpoint: room agents measure their link against it."""
