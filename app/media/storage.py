"""Where uploaded files live: a small interface so an object store can
replace the local directory without touching the catalog code."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def exists(self, key: str) -> bool: ...
    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def path(self, key: str) -> Path: ...


class LocalStorage:
    """Files under a root directory (default var/media), keyed by relative path."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the root: {key!r}")
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def save(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)  # write then rename: never a half file
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:  # a full disk, say: leave no temporary file behind either
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def storage() -> Storage:
    if "media_storage" not in current_app.extensions:
        root = current_app.config.get("MEDIA_ROOT") or Path(current_app.config["VAR_DIR"]) / "media"
        current_app.extensions["media_storage"] = LocalStorage(Path(root))
    return current_app.extensions["media_storage"]
