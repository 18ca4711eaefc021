"""The file store for photos and documents: a local folder by default (HOMESAFE_FILES_DIR).

Keys are random (``secrets.token_hex``) with the file's suffix, so a key cannot be guessed from
a case or a home, and a key from outside is checked against ``KEY`` before it becomes a path.
An object store in production is another class with the same three methods.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

KEY = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|pdf|txt|html)$")


class FileNotStored(LookupError):
    """No file with that key."""


class LocalFileStore:
    """Files under one folder, two levels of sub-folders by key, written atomically."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):
            raise FileNotStored(f"{key!r} is not a file key")
        return self.root / key[:2] / key

    def put(self, data: bytes, *, suffix: str) -> str:
        """Store the bytes; returns the new key."""
        key = f"{secrets.token_hex(16)}.{suffix}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        """The file's bytes, or FileNotStored."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileNotStored(f"no file {key}") from None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except FileNotStored:
            return False
