"""digest: turn a plain-text newsletter issue into a ready-to-send email.

    import digest
    result = digest.build("issues/2024-06-ldn-trials.yaml")
    if result.ok:
        digest.write(result, "build")

Importing digest loads nothing else: each name below is imported when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["build", "write", "Result", "Finding", "DigestError", "__version__"]

_WHERE = {"build": "digest.pipeline", "write": "digest.pipeline", "Result": "digest.model",
          "Finding": "digest.model", "DigestError": "digest.exceptions"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'digest' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
