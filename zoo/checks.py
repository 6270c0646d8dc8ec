"""Argument checks shared by the public verbs: a bad count is refused up front with its name, never passed on
to Keras (which reads ``steps_per_epoch <= 0`` on a repeating dataset as "until the data ends": forever)."""


def positive_int(value, name, minimum=1):
    """``value`` as an int if it is an integer >= ``minimum`` (not a bool, not a float), else ``ValueError``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_number(value, name):
    """``value`` as a float if it is a finite number > 0 (a learning rate, a weight), else ``ValueError``."""
    import math
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def truncation_psi(value):
    """``value`` as a float if it is a number in [0, 1] (the truncation trick's psi; 1 = none), else ``ValueError``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"truncation must be a number in [0, 1] (1 = none), got {value!r}")
    return float(value)
