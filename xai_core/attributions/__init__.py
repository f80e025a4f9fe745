"""Attribution methods, one module per method, all with the verb ``explain(images, targets)``.

See :mod:`.base` for the contract and :mod:`.registry` for the list.
"""

from .base import Attribution
from .registry import METHODS, MethodSpec, ParamSpec, make, method_spec

__all__ = ["METHODS", "Attribution", "MethodSpec", "ParamSpec", "make", "method_spec"]
