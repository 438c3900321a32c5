"""The one exception type for invalid architecture input (see docs/design.md)."""
from __future__ import annotations

PATH_SEPARATOR = " › "


class ArchitectureError(ValueError):
    """Invalid architecture input. The message names the node, the field and the fix.

    `path` holds the names of the enclosing blocks/parallels (empty at the top level); a
    nested node is named by its path (`layer2 › layer2.0 › layer2.0.add: …`), a top-level
    one by its name and row index (`Conv3 (layer 9): …`), as for flat networks.
    """

    def __init__(self, message: str, *, index: int | None = None, name: str | None = None,
                 field: str | None = None, path: tuple[str, ...] = ()) -> None:
        self.index, self.layer_name, self.field, self.reason = index, name, field, message
        self.path = tuple(path)
        if name is not None:
            if self.path:
                message = f"{PATH_SEPARATOR.join((*self.path, name))}: {message}"
            else:
                where = f" (layer {index})" if index is not None and name != f"Layer {index}" else ""
                message = f"{name}{where}: {message}"
        elif self.path:
            message = f"{PATH_SEPARATOR.join(self.path)}: {message}"
        super().__init__(message)
