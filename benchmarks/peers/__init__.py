"""Peers of zoo's benchmarks: the same computation written in another framework, timed in the same process
(``benchmarks/<app>.py --peer``). Each module imports its framework itself, only when a peer is asked for."""
