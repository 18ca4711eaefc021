"""Pure home physics: psychrometrics, thermal and moisture balances, damp probe, weather, mould."""

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

Numeric: TypeAlias = float | NDArray[np.float64]  # every physics function takes floats or arrays
