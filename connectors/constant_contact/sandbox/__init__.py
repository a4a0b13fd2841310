"""A faithful local sandbox of the Constant Contact V3 API (see server.Sandbox)."""

from .knobs import Knobs
from .server import Sandbox

__all__ = ["Knobs", "Sandbox"]
