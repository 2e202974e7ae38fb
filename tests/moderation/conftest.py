from tests.realtime.conftest import daphne_pair, server_a, server_b  # noqa: F401  (the same two processes)
