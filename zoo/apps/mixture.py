"""Moved to ``zoo.toy`` (the 2-D mixture is toy data, not an app); this alias stays until tests/test_unrolled.py
imports ``zoo.toy``."""
from zoo.toy import *  # noqa: F401,F403
from zoo.toy import assign_modes, mode_centres, mode_counts, mode_coverage, ring_of_gaussians, scatter_png  # noqa: F401,E501
