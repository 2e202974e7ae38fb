"""STOMP 1.2 (and 1.1, 1.0) over WebSocket at `/ws/stomp/` (docs/stomp.md).

`frames` parses and encodes frames (no Django), `handshake` negotiates CONNECT, `destinations`
names rooms, `outbound` builds the server's frames, `consumer` adapts it all to the rooms.
"""
